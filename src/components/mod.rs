//! The page's components, one per file, each with its `Props`.

pub mod channel_zoom;
pub mod compare;
pub mod heatmap;
pub mod heatmap_grid;
pub mod image_picker;
pub mod legend;
pub mod lesson;
pub mod mask_view;
pub mod model_banner;
pub mod model_picker;
pub mod rgba_canvas;
pub mod score_table;
pub mod stage_strip;
pub mod stage_view;
pub mod status_line;
pub mod toggles;
pub mod u_diagram;

pub use channel_zoom::ChannelZoom;
pub use compare::Compare;
pub use heatmap::Heatmap;
pub use heatmap_grid::HeatmapGrid;
pub use image_picker::ImagePicker;
pub use legend::Legend;
pub use lesson::Lesson;
pub use mask_view::MaskView;
pub use model_banner::ModelBanner;
pub use model_picker::ModelPicker;
pub use rgba_canvas::RgbaCanvas;
pub use score_table::ScoreTable;
pub use stage_strip::StageStrip;
pub use stage_view::StageView;
pub use status_line::StatusLine;
pub use toggles::Toggles;
pub use u_diagram::UDiagram;
