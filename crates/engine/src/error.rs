//! The engine's one error type. Every message names what was expected and what came.

/// Errors from building, running or loading a model.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EngineError {
    #[error("{what}: expected shape {expected:?}, got {got:?}")]
    Shape { what: String, expected: Vec<usize>, got: Vec<usize> },

    #[error("input is {height}x{width}, but this model needs sides that are multiples of {multiple} (2^depth)")]
    InputSize { height: usize, width: usize, multiple: usize },

    #[error("label {label} is out of range: the model has {classes} classes (0..{classes})")]
    Label { label: u8, classes: usize },

    #[error("invalid model configuration: {0}")]
    Config(String),

    #[error("the weights file is truncated or not a safetensors file: {0}")]
    Format(String),

    #[error("the weights file has no tensor `{name}` (expected shape {expected:?})")]
    MissingTensor { name: String, expected: Vec<usize> },

    #[error("the weights file has a tensor `{name}` that this model does not use")]
    UnexpectedTensor { name: String },

    #[error("tensor `{name}`: expected shape {expected:?}, found {found:?}")]
    TensorShape { name: String, expected: Vec<usize>, found: Vec<usize> },

    #[error("tensor `{name}`: expected dtype F32 or F16, found {found}")]
    TensorDtype { name: String, found: String },

    #[error("tensor `{name}` holds a non-finite value at element {index}")]
    NonFinite { name: String, index: usize },

    #[error("tensor `{name}` holds a negative variance at element {index}")]
    NegativeVariance { name: String, index: usize },

    #[error("the metadata says {field} = {metadata}, but the tensors say {tensors}")]
    ConfigMismatch { field: String, metadata: String, tensors: String },

    #[error("{0}")]
    Unsuited(String),

    #[error("weights metadata: {0}")]
    Metadata(String),

    #[error("weights format version {found} is not supported (this build reads version {supported})")]
    Version { found: String, supported: u32 },
}

pub type Result<T> = std::result::Result<T, EngineError>;

/// Checks that `got` equals `expected`, naming `what` in the error.
pub fn check_shape(what: &str, expected: &[usize], got: &[usize]) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(EngineError::Shape { what: what.to_string(), expected: expected.to_vec(), got: got.to_vec() })
    }
}
