"""SkipScope's model family in PyTorch: train it anywhere, open the result in the page.

- `model`: `SkipScopeNet(config)`, layer for layer the engine's network;
- `data`: a folder of photos and label PNGs as a dataset;
- `train`: the training script (one process, or many under `torchrun`);
- `export`: the weights file the page loads.
"""
