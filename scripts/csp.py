#!/usr/bin/env python3
"""Trunk post-build hook: gives the built index.html its Content-Security-Policy.

The policy allows only the page's own origin: scripts from it (and the inline module
script Trunk writes to start the wasm, by its SHA-256, computed here because it changes
with every build), WebAssembly compilation ('wasm-unsafe-eval'), workers and requests to
it; pictures from it and from blob:/data: URLs (files the user chooses are drawn from
blob: URLs; the icon is a data: URL); inline style attributes (colour swatches). Nothing
else: no other origin can be reached, framed or posted to. A static host cannot send a
per-request nonce, so a hash is the only way to allow Trunk's one inline script.
Usage: csp.py DIR (default: $TRUNK_STAGING_DIR).
"""
import base64
import hashlib
import os
import re
import sys

MARK = "<!-- csp -->"

def policy(html: str) -> str:
    hashes = [
        "'sha256-%s'" % base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        for body in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S)
    ]
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval' " + " ".join(hashes),
        "worker-src 'self' blob:",  # gloo-worker starts the worker from a blob: URL that imports worker.js
        "connect-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'none'",
    ])

def main() -> None:
    folder = sys.argv[1] if len(sys.argv) > 1 else os.environ["TRUNK_STAGING_DIR"]
    path = os.path.join(folder, "index.html")
    html = open(path, encoding="utf-8").read()
    if MARK not in html:
        sys.exit(f"{path}: no {MARK} placeholder for the policy")
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy(html)}">'
    open(path, "w", encoding="utf-8").write(html.replace(MARK, meta, 1))

if __name__ == "__main__":
    main()
