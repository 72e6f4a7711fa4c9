//! SkipScope's segmentation engine.
//!
//! Everything here is pure computation on bytes and arrays: no I/O, no web dependency, so
//! the same code trains natively and runs in the browser as WebAssembly.
//!
//! # Layout
//! Every activation is an [`ndarray::Array4`] in **NHWC** order: `[batch, height, width,
//! channels]`, standard (row-major) layout. Channels are innermost, so a 1x1 convolution is a
//! plain GEMM and pooling, unpooling, upsampling and concatenation vectorise over channels.
//!
//! # Conventions (pinned to PyTorch)
//! - convolution padding is symmetric zero padding (`padding=1` for 3x3 keeps the size);
//! - transposed convolution output size is `(H - 1) * stride - 2 * padding + kernel`;
//! - bilinear upsampling uses `align_corners=False`;
//! - max-pooling indices are flat positions `y * W_in + x` inside each input plane, as
//!   returned by `torch.nn.functional.max_pool2d(..., return_indices=True)`; ties go to the
//!   first maximum in row-major window order;
//! - batch norm: `eps = 1e-5`, `momentum = 0.1`, biased variance to normalise, unbiased
//!   variance for the running average.
//!
//! Weight layouts differ from PyTorch (they are chosen so the GEMM needs no transpose):
//! conv2d `[KH, KW, C_in, C_out]` (PyTorch `[C_out, C_in, KH, KW]`), transposed conv
//! `[C_in, KH, KW, C_out]` (PyTorch `[C_in, C_out, KH, KW]`).

pub mod bench;
pub mod buffers;
pub mod catalog;
pub mod error;
pub mod gradcheck;
pub mod layers;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod param;
pub mod receptive_field;
pub mod rng;
pub mod scalar;
pub mod synthetic;
pub mod training;
pub mod weights;

pub use error::{EngineError, Result};
pub use model::{stage_names, Model, ModelConfig, Skip, Upsample, Variant};
pub use scalar::Scalar;
