"""The live demo: MSSNet run on the person's picture, and what it shows.

One job per module, none of them importing torch at import time (the engine loads when a demo runs):
- result: the typed `DemoResult` (what was measured, the files, which weights ran and why)
- run: restore and measure (`run_demo`, `run_demo_in_new_dir`, the input checks)
- measure: the numbers (metrics, the lost detail recovered, stage times, early exit)
- figures: the PNG files (crops, the zoom strip, the difference map, stages, spectrum)
- folders: a fresh output folder, removed again on failure or Ctrl-C
- illustrate: which measurement illustrates which claim of the answer
- tables: the demo's tables for people (columns without data hidden, noise said as noise)
- terminal: the demo in the terminal (rich)
- trigger: whether a question concerns the attached picture (the demo runs then)
"""
