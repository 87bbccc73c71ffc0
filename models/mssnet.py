"""MSSNet (Kim et al., "MSSNet: Multi-Scale-Stage Network for Single Image Deblurring").

Same computation and parameter names as the official code (github.com/kky7/MSSNet), so the
released checkpoints load strictly: three scales with 1 / 2 / 3 U-Net stages, pixel-unshuffled
coarse inputs, cross-stage feature fusion (CSFF), inter-scale feature propagation, residual
outputs, and ONE PReLU slope shared by the whole network (registered under 87 keys).
Input: RGB float in [0, 1], (B, 3, H, W), H and W multiples of 16 (the engine pads).
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

import torch
import torch.nn as nn
import torch.nn.functional as F

from models.weights_info import LoadedModel, WeightsInfo

if TYPE_CHECKING:
    from collections.abc import Iterator

CONFIGS: dict[str, tuple[int, int, int]] = {
    "small": (20, 40, 40),
    "base": (54, 42, 42),
    "large": (80, 50, 50),
}
SIZE_MULTIPLE = 16
STAGE_NAMES = ("res1_1", "res2_1", "res2_2", "res3_1", "res3_2", "res3_3")


def config_name(config: tuple[int, int, int]) -> str | None:
    for name, cfg in CONFIGS.items():
        if tuple(config) == cfg:
            return name
    return None


def _conv(cin: int, cout: int, k: int = 3) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, padding=k // 2, bias=False)


def upsample2x(x: torch.Tensor, shortcuts: bool = True) -> torch.Tensor:
    """Bilinear x2 (align_corners=False), the official resize. With `shortcuts`, on the CPU in
    bf16/fp16 it runs as four lerps over channels-last memory, ~5x faster than F.interpolate
    there; the result differs from it by the rounding of the intermediate row pass only.
    Inference only (`out=` has no autograd)."""
    if x.device.type != "cpu" or x.dtype == torch.float32 or torch.is_grad_enabled() or not shortcuts:
        return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
    y = x.permute(0, 2, 3, 1)  # N H W C: contiguous for channels-last input
    n, h, w, c = y.shape
    # out[2i] = 3/4 x[i] + 1/4 x[i-1], out[2i+1] = 3/4 x[i] + 1/4 x[i+1]; edges repeat x[0], x[-1]
    rows = y.new_empty(n, h, 2, w, c)
    torch.lerp(y[:, 1:], y[:, :-1], 0.25, out=rows[:, 1:, 0])
    torch.lerp(y[:, :-1], y[:, 1:], 0.25, out=rows[:, :-1, 1])
    rows[:, 0, 0] = y[:, 0]
    rows[:, -1, 1] = y[:, -1]
    rows = rows.view(n, 2 * h, w, c)
    out = y.new_empty(n, 2 * h, w, 2, c)
    torch.lerp(rows[:, :, 1:], rows[:, :, :-1], 0.25, out=out[:, :, 1:, 0])
    torch.lerp(rows[:, :, :-1], rows[:, :, 1:], 0.25, out=out[:, :, :-1, 1])
    out[:, :, 0, 0] = rows[:, :, 0]
    out[:, :, -1, 1] = rows[:, :, -1]
    return out.view(n, 2 * h, 2 * w, c).permute(0, 3, 1, 2)


class Resize(nn.Module):
    """Bilinear resize by a fixed factor (no parameters; keeps the official Sequential indices)."""

    def __init__(self, factor: float, align_corners: bool = False, shortcuts: bool = True):
        super().__init__()
        self.factor = factor
        self.align_corners = align_corners
        self.shortcuts = shortcuts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.align_corners and self.factor == 0.5 and self.shortcuts:
            return F.avg_pool2d(x, 2)  # exactly what bilinear x0.5 computes, and faster
        if not self.align_corners and self.factor == 2.0:
            return upsample2x(x, self.shortcuts)
        return F.interpolate(x, scale_factor=self.factor, mode="bilinear", align_corners=self.align_corners)


class SharedPReLU(nn.PReLU):
    """The network's one PReLU. Without autograd, inside `MSSNet.fixed_slope()`, it applies the
    slope in place (leaky ReLU): no new buffer and no fp32 round trip under autocast. Only safe
    because every use follows a convolution whose output nothing else holds."""

    slope: float | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.slope is None or torch.is_grad_enabled():
            return super().forward(x)
        return F.leaky_relu_(x, self.slope)


class ResBlock(nn.Module):
    def __init__(self, ch: int, act: nn.Module):
        super().__init__()
        self.body = nn.Sequential(_conv(ch, ch), act, _conv(ch, ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        out += x  # in place: saves one activation-sized buffer per block
        return out


def _resblocks(ch: int, act: nn.Module, n: int = 2) -> nn.Sequential:
    return nn.Sequential(*[ResBlock(ch, act) for _ in range(n)])


class DownSample(nn.Module):
    def __init__(self, cin: int, extra: int, shortcuts: bool = True):
        super().__init__()
        self.down = nn.Sequential(Resize(0.5, shortcuts=shortcuts), _conv(cin, cin + extra, 1))

    def forward(self, x):
        return self.down(x)


class SkipUpSample(nn.Module):
    def __init__(self, cout: int, extra: int, shortcuts: bool = True):
        super().__init__()
        self.up = nn.Sequential(Resize(2.0, shortcuts=shortcuts), _conv(cout + extra, cout, 1))
        self.shortcuts = shortcuts

    def forward(self, x, skip):
        resize, conv = self.up
        # a 1x1 conv commutes with the resize: run it on 4x fewer pixels
        out = resize(conv(x)) if self.shortcuts else conv(resize(x))
        out += skip
        return out


class ScaleUpSample(nn.Module):
    def __init__(self, ch: int, shortcuts: bool = True):
        super().__init__()
        self.scaleUp = nn.Sequential(Resize(2.0, shortcuts=shortcuts), _conv(ch, ch, 1))
        self.shortcuts = shortcuts

    def forward(self, x):
        resize, conv = self.scaleUp
        return resize(conv(x)) if self.shortcuts else conv(resize(x))  # as in SkipUpSample


class TailShuffle(nn.Module):
    """3x3 conv to 12 channels, then pixel-shuffle x2 back to RGB (scales 1 and 2)."""

    def __init__(self, cin: int):
        super().__init__()
        self.tail = _conv(cin, 12)

    def forward(self, x):
        return F.pixel_shuffle(self.tail(x), 2)


class Encoder(nn.Module):
    def __init__(self, wf: int, scale: int, vscale: int, act: nn.Module, csff: bool, shortcuts: bool = True):
        super().__init__()
        w1, w2, w3 = wf, wf + scale, wf + scale + vscale
        self.encoder_level1 = _resblocks(w1, act)
        self.encoder_level2 = _resblocks(w2, act)
        self.encoder_level3 = _resblocks(w3, act)
        self.down12 = DownSample(w1, scale, shortcuts)
        self.down23 = DownSample(w2, vscale, shortcuts)
        self.csff = csff
        self.shortcuts = shortcuts
        if csff:
            self.csff_enc1, self.csff_enc2, self.csff_enc3 = (_conv(w, w, 1) for w in (w1, w2, w3))
            self.csff_dec1, self.csff_dec2, self.csff_dec3 = (_conv(w, w, 1) for w in (w1, w2, w3))

    def forward(self, x, enc_prev=None, dec_prev=None, upsample: bool = False):
        """Cross-stage fusion adds 1x1 convs of the previous stage's features; `upsample`: those
        come from the coarser scale, at half size (the official code resizes them first; the
        1x1 convs and their sum commute with the resize, so it is done once, on the sum)."""
        e1 = self._fuse(1, self.encoder_level1(x), enc_prev, dec_prev, upsample)
        e2 = self._fuse(2, self.encoder_level2(self.down12(e1)), enc_prev, dec_prev, upsample)
        e3 = self._fuse(3, self.encoder_level3(self.down23(e2)), enc_prev, dec_prev, upsample)
        return [e1, e2, e3]

    def _fuse(self, level: int, feat, enc_prev, dec_prev, upsample: bool):
        if enc_prev is None or dec_prev is None:
            return feat
        conv_enc, conv_dec = getattr(self, f"csff_enc{level}"), getattr(self, f"csff_dec{level}")
        prev_e, prev_d = enc_prev[level - 1], dec_prev[level - 1]
        if not self.shortcuts:
            if upsample:
                prev_e, prev_d = upsample2x(prev_e, False), upsample2x(prev_d, False)
            return feat + conv_enc(prev_e) + conv_dec(prev_d)
        extra = conv_enc(prev_e) + conv_dec(prev_d)
        feat += upsample2x(extra) if upsample else extra
        return feat


class Decoder(nn.Module):
    def __init__(self, wf: int, scale: int, vscale: int, act: nn.Module, shortcuts: bool = True):
        super().__init__()
        w1, w2, w3 = wf, wf + scale, wf + scale + vscale
        self.decoder_level1 = _resblocks(w1, act)
        self.decoder_level2 = _resblocks(w2, act)
        self.decoder_level3 = _resblocks(w3, act)
        # "skip_attn" is the official name; it is a plain ResBlock (no attention).
        self.skip_attn1 = ResBlock(w1, act)
        self.skip_attn2 = ResBlock(w2, act)
        self.up32 = SkipUpSample(w2, vscale, shortcuts)
        self.up21 = SkipUpSample(w1, scale, shortcuts)

    def forward(self, enc):
        e1, e2, e3 = enc
        d3 = self.decoder_level3(e3)
        d2 = self.decoder_level2(self.up32(d3, self.skip_attn2(e2)))
        d1 = self.decoder_level1(self.up21(d2, self.skip_attn1(e1)))
        return [d1, d2, d3]


def half_resolution(image: torch.Tensor) -> torch.Tensor:
    """The scale-1 input image: the official code resizes with align_corners=True here only."""
    return F.interpolate(image, scale_factor=0.5, mode="bilinear", align_corners=True)


class MSSNet(nn.Module):
    """The official DeblurNet; `wf, scale, vscale` give level widths wf / wf+scale / wf+scale+vscale.

    `shortcuts` is decided once, here (as nanoGPT decides `self.flash`): True runs the inference
    shortcuts (1x1 convs before the x2 resizes, average pooling for x0.5, lerp upsampling in
    bf16/fp16, in-place PReLU); False runs the official code's literal operations, the
    benchmark's baseline and what the tests compare the shortcuts with (see `official_twin`)."""

    def __init__(self, wf: int = 54, scale: int = 42, vscale: int = 42, *, shortcuts: bool = True):
        super().__init__()
        self.config = (wf, scale, vscale)
        self.shortcuts = shortcuts
        # One slope for the whole network, as in the official code: the same module object sits
        # in every ResBlock, so state_dict() repeats it under 87 keys.
        act = SharedPReLU()
        sc = shortcuts

        def encoder(csff: bool) -> Encoder:
            return Encoder(wf, scale, vscale, act, csff=csff, shortcuts=sc)

        def decoder() -> Decoder:
            return Decoder(wf, scale, vscale, act, shortcuts=sc)

        # scale 1 (H/4 after the x0.5 resize and the unshuffle)
        self.shallow_feat1 = nn.Sequential(_conv(12, wf), ResBlock(wf, act))
        self.E1_1 = encoder(csff=False)
        self.D1_1 = decoder()
        self.tail1_1 = TailShuffle(wf)
        # scale 2 (H/2, unshuffled full image)
        self.shallow_feat2 = nn.Sequential(_conv(12, wf), ResBlock(wf, act))
        self.up_scale1_feat = ScaleUpSample(wf, sc)
        self.fusion12 = _conv(wf * 2, wf)
        self.E2_1 = encoder(csff=True)
        self.D2_1 = decoder()
        self.E2_2 = encoder(csff=True)
        self.D2_2 = decoder()
        self.tail2_1 = TailShuffle(wf)
        self.tail2_2 = TailShuffle(wf)
        # scale 3 (full resolution RGB)
        self.shallow_feat3 = nn.Sequential(_conv(3, wf), ResBlock(wf, act))
        self.up_scale2_feat = ScaleUpSample(wf, sc)
        self.fusion23 = _conv(wf * 2, wf)
        self.E3_1 = encoder(csff=True)
        self.D3_1 = decoder()
        self.E3_2 = encoder(csff=True)
        self.D3_2 = decoder()
        self.E3_3 = encoder(csff=True)
        self.D3_3 = decoder()
        self.tail3_1 = _conv(wf, 3)
        self.tail3_2 = _conv(wf, 3)
        self.tail3_3 = _conv(wf, 3)

    @property
    def act(self) -> SharedPReLU | None:
        """The shared PReLU, wherever it is still used (None once every site is linearised,
        see models.streamline)."""
        return next((m for m in self.modules() if isinstance(m, SharedPReLU)), None)

    @contextlib.contextmanager
    def fixed_slope(self) -> Iterator[None]:
        """Read the PReLU slope once, so inference can apply it in place (see SharedPReLU)."""
        act = self.act
        if act is None:
            yield
            return
        # meta weights: the benchmark's FLOP count
        inplace = self.shortcuts and not torch.is_grad_enabled() and not act.weight.is_meta
        act.slope = float(act.weight.reshape(())) if inplace else None
        try:
            yield
        finally:
            act.slope = None

    # ------------------------------------------------------------------ forward passes
    def forward(self, x: torch.Tensor, stages: int = 6, half: torch.Tensor | None = None) -> torch.Tensor:
        """Restored image at input size; `stages < 6` exits early through that stage's tail.
        `half`: the x0.5 image if already computed (see `half_resolution`); tiles pass their
        slice of the whole image's, so they see exactly what the whole-image pass sees."""
        if not 1 <= int(stages) <= 6:
            raise ValueError(f"stages must be 1..6, got {stages}")
        out = self._run(x, last=int(stages), keep_all=False, timings=None, half=half)[-1]
        if stages == 1:  # stage 1 restores the half-resolution image
            out = F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return out

    def forward_stages(
        self, x: torch.Tensor, timings: dict | None = None, half: torch.Tensor | None = None
    ) -> list[torch.Tensor]:
        """All six outputs in the official order [res1_1 (half res), res2_1, res2_2, res3_1,
        res3_2, res3_3]; fills `timings["stage_1".."stage_6"]` (seconds) if a dict is given."""
        return self._run(x, last=6, keep_all=True, timings=timings, half=half)

    def _run(self, s3_blur, last: int, keep_all: bool, timings: dict | None, half=None):
        with self.fixed_slope():
            return self._run_stages(s3_blur, last, keep_all, timings, half)

    def _run_stages(self, s3_blur, last: int, keep_all: bool, timings: dict | None, half=None):
        h, w = s3_blur.shape[-2:]
        if h % SIZE_MULTIPLE or w % SIZE_MULTIPLE:
            raise ValueError(f"MSSNet needs H and W that are multiples of {SIZE_MULTIPLE}, got {h}x{w}")
        outs: list[torch.Tensor | None] = []  # None: a stage passed but not kept
        clock = _StageClock(timings, s3_blur)

        def emit(tail, feat, blur):
            if keep_all or len(outs) + 1 == last:
                outs.append(tail(feat) + blur)
            else:
                outs.append(None)
            clock.tick(len(outs))
            return len(outs) >= last

        s2_blur = half_resolution(s3_blur) if half is None else half
        shfeat1 = self.shallow_feat1(F.pixel_unshuffle(s2_blur, 2))
        e1 = self.E1_1(shfeat1)
        d1 = self.D1_1(e1)
        if emit(self.tail1_1, d1[0], s2_blur):
            return outs
        del shfeat1, s2_blur

        # scale 2
        shfeat2 = self.shallow_feat2(F.pixel_unshuffle(s3_blur, 2))
        fused = self.fusion12(torch.cat([shfeat2, self.up_scale1_feat(d1[0])], 1))
        del shfeat2
        e, d = self.E2_1(fused, e1, d1, upsample=True), None
        del e1, d1, fused
        d = self.D2_1(e)
        if emit(self.tail2_1, d[0], s3_blur):
            return outs
        e = self.E2_2(d[0], e, d)
        d = self.D2_2(e)
        if emit(self.tail2_2, d[0], s3_blur):
            return outs

        # scale 3
        shfeat3 = self.shallow_feat3(s3_blur)
        fused = self.fusion23(torch.cat([shfeat3, self.up_scale2_feat(d[0])], 1))
        del shfeat3
        e = self.E3_1(fused, e, d, upsample=True)
        del fused
        for enc, dec, tail in (
            (None, self.D3_1, self.tail3_1),
            (self.E3_2, self.D3_2, self.tail3_2),
            (self.E3_3, self.D3_3, self.tail3_3),
        ):
            if enc is not None:
                e = enc(d[0], e, d)
            d = dec(e)
            if emit(tail, d[0], s3_blur):
                return outs
        return outs


class _StageClock:
    """Per-stage wall time; synchronises CUDA so the numbers mean something."""

    def __init__(self, timings: dict | None, ref: torch.Tensor):
        self.timings = timings
        self.cuda = ref.is_cuda
        self.t = time.perf_counter() if timings is not None else 0.0

    def tick(self, stage: int) -> None:
        if self.timings is None:
            return
        if self.cuda:
            torch.cuda.synchronize()
        now = time.perf_counter()
        self.timings[f"stage_{stage}"] = now - self.t
        self.t = now


def count_parameters(model: nn.Module) -> int:
    """Distinct parameters (the shared PReLU slope counts once)."""
    return sum(p.numel() for p in model.parameters())


def describe(model: MSSNet, name: str = "untrained") -> WeightsInfo:
    """What a network built here (not read from a file) is: no path, no checksum, no card."""
    return WeightsInfo(
        name=name,
        path=None,
        sha256=None,
        config=model.config,
        config_name=config_name(model.config),
        params=count_parameters(model),
    )


def as_loaded(model: LoadedModel | MSSNet) -> LoadedModel:
    """`model` beside its description: as given by `load_model()`/`seeded_model()`, or a bare
    network described as untrained."""
    return model if isinstance(model, LoadedModel) else LoadedModel(model, describe(model))


def official_twin(model: MSSNet) -> MSSNet:
    """The same weights in a network built without the shortcuts (the official operations), on
    the same device and in the same train/eval mode."""
    twin = type(model)(*model.config, shortcuts=False)
    twin.load_state_dict(model.state_dict())
    device = next(model.parameters()).device
    return twin.to(device).train(model.training)


def seeded_model(config: str | tuple[int, int, int] = "small", seed: int = 0) -> LoadedModel:
    """A randomly initialised MSSNet (PyTorch default init), the same for the same seed, beside
    its description: for tests and benchmarks before trained weights exist."""
    cfg = CONFIGS[config] if isinstance(config, str) else config
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MSSNet(*cfg)
    return LoadedModel(model.eval(), describe(model, f"random-seed{seed}"))
