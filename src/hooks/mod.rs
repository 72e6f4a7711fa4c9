//! The page's side effects, one hook per file. Each reads the [`State`](crate::state::State),
//! runs what it asks for (downloads, decoding, worker requests) and reports back as
//! actions; every request takes its serial from the page's one counter ([`Serials`]).

pub mod use_ablation;
pub mod use_camera;
pub mod use_colour_ahead;
pub mod use_compare;
pub mod use_deferred;
pub mod use_keys;
pub mod use_lesson;
pub mod use_offline_copy;
pub mod use_own_models;
pub mod use_paste;
pub mod use_picture;
pub mod use_recovery;
pub mod use_trace;
pub mod use_url;
pub mod use_weights;
pub mod use_worker;

pub use use_ablation::use_ablation;
pub use use_camera::use_camera;
pub use use_colour_ahead::use_colour_ahead;
pub use use_compare::use_compare;
pub use use_deferred::use_deferred;
pub use use_keys::use_keys;
pub use use_lesson::use_lesson;
pub use use_offline_copy::use_offline_copy;
pub use use_own_models::use_own_models;
pub use use_paste::use_paste;
pub use use_picture::{use_picture, Pictures};
pub use use_recovery::use_recovery;
pub use use_trace::use_trace;
pub use use_url::use_url;
pub use use_weights::use_weights;
pub use use_worker::{start_mask_worker_early, use_worker, Serials, WorkerHandle};
