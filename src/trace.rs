//! The worker's computation, kept free of the worker machinery so tests call it directly.

use crate::protocol::{MapShape, ModelSummary, Response, StageSummary, TraceRequest};
use ndarray::Array4;
use skipscope_engine::{Model, ModelConfig};

/// A smooth test image `[1, height, width, channels]` with values in `[0, 1]`: channel 0
/// grows left to right, channel 1 top to bottom, channel 2 along the diagonal, and so on
/// cyclically.
pub fn gradient_image(height: usize, width: usize, channels: usize) -> Array4<f32> {
    let fx = |x: usize| x as f32 / (width.max(2) - 1) as f32;
    let fy = |y: usize| y as f32 / (height.max(2) - 1) as f32;
    Array4::from_shape_fn([1, height, width, channels], |(_, y, x, c)| match c % 3 {
        0 => fx(x),
        1 => fy(y),
        _ => 1.0 - 0.5 * (fx(x) + fy(y)),
    })
}

/// Runs trace requests, keeping the last model so that a repeated request skips the build.
#[derive(Default)]
pub struct Tracer {
    /// The last model with its config, seed and trainable parameter count.
    model: Option<(ModelConfig, u64, usize, Model<f32>)>,
}

impl Tracer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers `request` through `respond` as the protocol says; engine errors become
    /// [`Response::Failed`]. `now_ms` is a monotonic clock in milliseconds.
    pub fn run(&mut self, request: &TraceRequest, now_ms: &dyn Fn() -> f64, respond: &mut dyn FnMut(Response)) {
        let run = request.run;
        if let Err(e) = self.try_run(request, now_ms, respond) {
            respond(Response::Failed { run, message: e.to_string() });
        }
    }

    fn try_run(&mut self, request: &TraceRequest, now_ms: &dyn Fn() -> f64, respond: &mut dyn FnMut(Response)) -> skipscope_engine::Result<()> {
        let TraceRequest { run, config, seed, height, width } = *request;
        config.validate()?;
        config.check_input([1, height, width, config.in_channels])?;
        let t0 = now_ms();
        let (parameters, model, build_ms) = match self.model.take() {
            Some((c, s, p, m)) if c == config && s == seed => (p, m, None),
            _ => {
                let mut m = Model::<f32>::new(config, seed)?;
                let p = m.parameter_count();
                m.fold_batch_norm();
                (p, m, Some(now_ms() - t0))
            }
        };
        let summary =
            ModelSummary { variant: config.variant(), parameters, reused: build_ms.is_none(), build_ms: build_ms.unwrap_or(0.0), random_weights: true };
        respond(Response::Started { run, model: summary });

        let x = gradient_image(height, width, config.in_channels);
        let start = now_ms();
        let mut last = start;
        let result = model.forward_traced_with(x.view(), &mut |stage| {
            let t = now_ms();
            let (_, h, w, c) = stage.data.dim();
            let shape = MapShape { channels: c, height: h, width: w };
            respond(Response::Stage { run, stage: StageSummary { name: stage.name, kind: stage.kind, level: stage.level, shape, ms: t - last } });
            last = now_ms();
        });
        let forward_ms = now_ms() - start;
        self.model = Some((config, seed, parameters, model));
        result?;
        respond(Response::Finished { run, forward_ms });
        Ok(())
    }
}
