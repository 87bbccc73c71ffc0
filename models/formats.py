"""What the engine reads and how large: one home for these constants, importable without numpy,
PIL or torch (the CLI's argument definitions use them while `explainer ask` must start fast)."""

# suffixes treated as photos when a folder is given (restore) or scanned (training photos)
PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif")

# what bundled weights are trained for (the manifest's "tasks"; restore/ask --task)
WEIGHTS_TASKS = ("enlarge", "deblur")

# decompression-bomb guard: larger images are refused unless --max-pixels raises it
DEFAULT_MAX_PIXELS = 100_000_000

# outputs smaller than this take half a minute at most here: no time estimate (no patches timed)
ESTIMATE_FROM_PIXELS = 2_000_000
FAST_PNG = (
    1  # zlib level for the PNGs written: about 3x faster than Pillow's 6 on photos, files ~10-15% larger
)
