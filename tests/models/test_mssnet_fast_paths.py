"""The inference-only shortcuts in MSSNet compute what the official operations compute."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from skimage import data

from models import cpu_memory
from models.checkpoints import load_model
from models.engine import restore
from models.mssnet import Resize, official_twin, upsample2x
from tests.constants import DATA

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny():
    return load_model(DATA / "tiny_official_checkpoint.pt").model


@pytest.mark.parametrize("shape", [(1, 5, 7, 9), (2, 3, 16, 16), (1, 4, 1, 6)])
def test_bf16_upsample_matches_bilinear_interpolate(shape):
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(1))
    x = x.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        fast = upsample2x(x)
    exact = F.interpolate(x.float(), scale_factor=2.0, mode="bilinear", align_corners=False)
    assert fast.shape == exact.shape and fast.dtype == torch.bfloat16
    assert fast.is_contiguous(memory_format=torch.channels_last)
    # two bf16 roundings (row pass, column pass) on values in [0, 1]: at most one ulp at 1.0
    assert (fast.float() - exact).abs().max().item() <= 2**-7


def test_upsample_keeps_the_official_operation_where_it_matters():
    x = torch.rand(1, 3, 8, 8)
    exact = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
    assert torch.equal(upsample2x(x), exact)  # fp32: identical
    xb = x.to(torch.bfloat16).requires_grad_()
    up = upsample2x(xb)  # training: autograd must work
    up.float().sum().backward()
    assert xb.grad is not None and xb.grad.shape == xb.shape


def test_half_resize_is_exactly_bilinear():
    x = torch.rand(2, 6, 32, 48, generator=torch.Generator().manual_seed(2))
    exact = F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False)
    assert torch.equal(Resize(0.5)(x), exact)


@pytest.mark.parametrize("grad", [False, True])
def test_inference_shortcuts_match_the_official_operation_order(tiny, grad):
    """Commuted 1x1 convs, in-place PReLU, lerp upsampling and average pooling against the
    official code's literal operations: same numbers in fp32, as close to fp32 in bf16."""
    x = torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(3))
    official = load_model(DATA / "tiny_official_checkpoint.pt", shortcuts=False).model
    assert tiny.shortcuts and not official.shortcuts  # decided once, when the weights are loaded
    mode = torch.enable_grad if grad else torch.inference_mode
    with mode():
        literal = [o.detach() for o in official.forward_stages(x)]
        fast = [o.detach() for o in tiny.forward_stages(x)]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            literal16 = official(x).detach().float()
            fast16 = tiny(x).detach().float()
    for a, b in zip(literal, fast):
        assert (a - b).abs().max().item() < 1e-6
    assert tiny.act.slope is None  # the in-place slope never outlives a forward

    def rms_error(y):
        return (y - literal[-1]).pow(2).mean().sqrt().item()

    # the shortcuts add rounding, not error
    assert rms_error(fast16) < 1.1 * rms_error(literal16)
    assert (fast16 - literal16).abs().max().item() < 0.05


def test_restore_reuses_heap_memory_only_while_running(tiny):
    if cpu_memory._LIBC is None:
        pytest.skip("not glibc: nothing to change")
    seen = []
    photo = Image.fromarray(data.chelsea()[:96, :128])
    restore(
        photo,
        tiny,
        device="cpu",
        tile=64,
        progress=lambda done, total: done and seen.append(cpu_memory.active()),
    )
    assert seen and all(seen)
    assert not cpu_memory.active()
    with cpu_memory.reuse_freed_memory():
        with cpu_memory.reuse_freed_memory():
            assert cpu_memory.active()
        assert cpu_memory.active()  # the inner exit leaves the outer setting alone
    assert not cpu_memory.active()
    assert np.asarray(photo).shape == (96, 128, 3)


def test_official_twin_keeps_the_weights_and_drops_the_shortcuts(tiny):
    twin = official_twin(tiny)
    assert not twin.shortcuts and twin.config == tiny.config and not twin.training
    assert all(torch.equal(a, b) for a, b in zip(twin.state_dict().values(), tiny.state_dict().values()))
    assert all(getattr(m, "shortcuts", False) is False for m in twin.modules())
