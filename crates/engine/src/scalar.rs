//! The element type of the engine: `f32` for training and inference, `f64` for gradient checks.

use ndarray::{LinalgScalar, ScalarOperand};
use num_traits::{Float, FromPrimitive, ToPrimitive};
use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// A floating-point element type that ndarray can multiply with its GEMM kernels.
pub trait Scalar:
    LinalgScalar
    + Float
    + FromPrimitive
    + ToPrimitive
    + ScalarOperand
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + 'static
{
    /// Converts an `f64` constant (exact for the constants the engine uses).
    fn of(x: f64) -> Self {
        Self::from_f64(x).expect("every f64 constant converts to a float type")
    }
}

impl Scalar for f32 {}
impl Scalar for f64 {}
