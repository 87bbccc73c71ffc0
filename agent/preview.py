"""Terminal picture previews with half-block characters: each cell shows two pixels (top, bottom)."""

from __future__ import annotations

from pathlib import Path
from typing import cast


def half_block(path: Path, width: int = 32):
    """A rich Text drawing the image at `width` cells; two pixel rows per text row."""
    from PIL import Image
    from rich.style import Style
    from rich.text import Text

    with Image.open(path) as opened:
        img = opened.convert("RGB")
        height = max(2, round(img.height * width / img.width / 2) * 2)
        small = img.resize((width, height), Image.Resampling.BOX)
    px = small.load()
    assert px is not None  # an RGB image always has pixel access
    text = Text()
    for y in range(0, height, 2):
        for x in range(width):
            top, bottom = cast(tuple[int, int, int], px[x, y]), cast(tuple[int, int, int], px[x, y + 1])
            text.append(
                "▀",
                Style(
                    color=f"rgb({top[0]},{top[1]},{top[2]})",
                    bgcolor=f"rgb({bottom[0]},{bottom[1]},{bottom[2]})",
                ),
            )
        text.append("\n")
    return text
