//! `skipscope`: the native command line for the engine. For now: `bench` (speed) and
//! `init` (write a freshly initialised model's weights, to exercise the file format).
//! Training and evaluation on CamVid come with the trainer.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use skipscope_engine::bench::{self, BenchConfig};
use skipscope_engine::{ModelConfig, Skip, Upsample};
use std::time::Instant;

#[derive(Parser)]
#[command(name = "skipscope", about = "SkipScope engine: benchmark and model tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum UpsampleArg {
    Unpool,
    Transposed,
    Bilinear,
}

#[derive(Clone, Copy, ValueEnum)]
enum SkipArg {
    None,
    Add,
    Concat,
}

#[derive(clap::Args)]
struct ModelArgs {
    #[arg(long, value_enum, default_value = "transposed")]
    upsample: UpsampleArg,
    #[arg(long, value_enum, default_value = "add")]
    skip: SkipArg,
    /// Number of poolings.
    #[arg(long, default_value_t = 4)]
    depth: usize,
    /// Channels of the first stage (doubles per stage).
    #[arg(long, default_value_t = 16)]
    channels: usize,
    #[arg(long, default_value_t = 11)]
    classes: usize,
}

impl ModelArgs {
    fn config(&self) -> ModelConfig {
        let upsample = match self.upsample {
            UpsampleArg::Unpool => Upsample::Unpool,
            UpsampleArg::Transposed => Upsample::Transposed,
            UpsampleArg::Bilinear => Upsample::Bilinear,
        };
        let skip = match self.skip {
            SkipArg::None => Skip::None,
            SkipArg::Add => Skip::Add,
            SkipArg::Concat => Skip::Concat,
        };
        ModelConfig { in_channels: 3, n_classes: self.classes, depth: self.depth, width: self.channels, upsample, skip }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Time every layer and the whole model, forward and backward, on one core.
    Bench {
        #[command(flatten)]
        model: ModelArgs,
        #[arg(long, default_value_t = 192)]
        height: usize,
        #[arg(long, default_value_t = 256)]
        width: usize,
        #[arg(long, default_value_t = 5)]
        repeats: usize,
        /// Skip the backward passes.
        #[arg(long)]
        forward_only: bool,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Bench { model, height, width, repeats, forward_only } => {
            let config = BenchConfig { model: model.config(), height, width, repeats, backward: !forward_only };
            let start = Instant::now();
            let clock = move || start.elapsed().as_secs_f64() * 1e3;
            let report = bench::run(&config, &clock).context("benchmark")?;
            print!("{report}");
        }
    }
    Ok(())
}
