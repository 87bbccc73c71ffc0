"""`WeightsInfo`: what a loaded MSSNet is, read by the engine, the demo and the report.

`load_model()` (and `seeded_model()`) return a `LoadedModel`: the network beside its frozen
`WeightsInfo`, as spandrel's `ImageModelDescriptor` keeps the model beside what it is. Nothing
is set on the `nn.Module`, and nothing downstream guesses with getattr or dict fallbacks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from models.mssnet import MSSNet


@dataclass(frozen=True)
class WeightsInfo:
    name: str  # bundled name, the file's stem, or "random-seedN"
    path: str | None  # the file that was read (None for a seeded model)
    sha256: str | None  # of that file, checked against the manifest when bundled
    config: tuple[int, int, int]  # (wf, scale, vscale)
    config_name: str | None  # "small" / "base" / "large" when the widths match one
    params: int  # distinct parameters (the shared PReLU slope once)
    provisional: bool = False  # bundled weights the model card calls provisional
    card: str | None = None  # path of the model card, for bundled weights
    summary: str | None = None  # the card's measured gain, one line (bundled weights)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["config"] = list(self.config)
        return out

    def provenance_line(self) -> str:
        """One line for every demo output: which weights ran, provisional or not, what they reach."""
        kind = "provisional " if self.provisional else ""
        sha = f", SHA-256 {self.sha256[:12]}…" if self.sha256 else ""
        gain = f"; {self.summary}" if self.summary else "; no model card, so no measured gain to quote"
        return f"weights: {self.name} ({kind}MSSNet {self.config_name or self.config}{sha}){gain}"


class LoadedModel(NamedTuple):
    """A network beside its description; unpacks as `model, info = load_model(...)`."""

    model: MSSNet
    info: WeightsInfo
