"""The README's quoted numbers are not stale: the EASIER figures are recomputed the way `./run main`
measures them, and the sample photo it names ships with the repository."""

import re

import numpy as np
import pytest

from tests.constants import ROOT


def _readme() -> str:
    return " ".join((ROOT / "README.md").read_text().split())  # paragraphs are wrapped anywhere


def test_the_sample_photo_the_readme_names_ships():
    from PIL import Image

    names = set(re.findall(r"samples/[\w.-]+\.png", _readme()))
    assert names == {"samples/cat-small.png"}
    with Image.open(ROOT / "samples" / "cat-small.png") as im:
        assert im.size == (160, 120)


EASIER = re.compile(
    r"linearising the lowest site costs (?P<k1>-?\d+\.\d+) dB.{0,20}?, 8 sites (?P<k8>\d+\.\d+) dB, "
    r"16 sites (?P<k16>\d+\.\d+) dB, all 87 about (?P<k87>\d+) dB.*?5×5 conv with (?P<merge>\d+)% more"
)


@pytest.mark.slow
def test_readme_easier_numbers_are_what_the_founding_demo_measures():
    """The founding demo's EASIER sweep (agent.demo.run: ×2 self-test of skimage's chelsea, a 128-px
    crop of the most detailed region, the default bundled weights, precision auto)."""
    from skimage import data

    import models
    from agent.demo import measure
    from agent.demo.run import degrade_for_self_test, run_streamline_on_crop
    from models.streamline import merge_summary

    quoted = EASIER.search(_readme())
    assert quoted, "the README's EASIER sentence changed: update this test's pattern with it"
    cat = np.asarray(data.chelsea(), dtype=np.float32) / 255.0
    before = degrade_for_self_test(cat, 2)
    box = measure.most_detailed_box(cat)
    result, _ = run_streamline_on_crop(models.load_model(), before, cat, box, "cpu", "auto", "self-test")
    base = result.cost_at(0)
    cost = {k: base.psnr - result.cost_at(k).psnr for k in (1, 8, 16, 87)}
    # bf16 and fp32 machines differ by under 0.01 dB here; 2 decimals are quoted
    for k in (1, 8, 16):
        assert abs(float(quoted[f"k{k}"]) - cost[k]) <= 0.02, (k, cost[k])
    assert abs(int(quoted["k87"]) - cost[87]) < 1.0, cost[87]
    assert int(quoted["merge"]) == round(100 * (merge_summary(result.sites)["ratio"] - 1))
