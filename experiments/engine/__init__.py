"""The experiment engine shared by every task: one configuration system with presets
(`experiments.engine.config`), one training loop (`experiments.engine.trainer`), checkpoints
(`experiments.engine.checkpoints`) and one sweep engine that owns cells, fingerprints, resume,
workers and executors (`experiments.engine.sweep`, over `experiments.engine.pool` and
`experiments.engine.submit`). A task (the language-model grid, the synthetic Bi-NFA sweep) plugs
into it; the engine never imports a task.
"""
