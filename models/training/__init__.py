"""Training and evaluation of MSSNet: photo pools and degradations (data, degrade), the trainer and
its loss (train, losses), the evaluation table (evaluate) and the unsharp-masking baseline (unsharp).

Inference (`models.mssnet`, `checkpoints`, `engine`, `tiling`, `precision`, `imageio`,
`imagesave`, `colour`, `metrics`) never imports this package: a person who only restores photos never loads the trainer.
"""
