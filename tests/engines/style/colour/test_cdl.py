"""The ASC CDL formula against OpenColorIO, and the fit against looks a CDL can and cannot express."""

import numpy as np
import pytest

from engines.style.colour import Cdl, apply_cdl, cdl_allowed, delta_e_2000, delta_e_stats, fit_cdl
from engines.style.colour.cdl import POWER_MIN, REC709_LUMA
from engines.style.colour.errors import ColourInputError, LookFunctionError, UnknownEncodingError
from tests.engines.style.colour.looks import film_look, identity_look, random_colours

GRADE = Cdl(slope=(1.12, 0.97, 0.88), offset=(0.02, -0.01, 0.035), power=(0.92, 1.05, 1.18), saturation=0.85)


def _ocio_cdl(cdl: Cdl, style: str):
    import PyOpenColorIO as ocio

    transform = ocio.CDLTransform()
    transform.setSlope(list(cdl.slope))
    transform.setOffset(list(cdl.offset))
    transform.setPower(list(cdl.power))
    transform.setSat(cdl.saturation)
    transform.setStyle({"asc": ocio.CDL_ASC, "noclamp": ocio.CDL_NO_CLAMP}[style])
    processor = ocio.Config.CreateRaw().getProcessor(transform)
    return processor.getOptimizedCPUProcessor(ocio.BIT_DEPTH_F32, ocio.BIT_DEPTH_F32, ocio.OPTIMIZATION_LOSSLESS)


def _through(cpu, rgb):
    out = np.ascontiguousarray(rgb, dtype=np.float32).copy()
    cpu.applyRGB(out)
    return out


@pytest.mark.parametrize("cdl", [GRADE, Cdl(), Cdl((0.5, 2.0, 1.0), (-0.2, 0.1, 0.0), (2.5, 0.4, 1.0), 1.6),
                                 Cdl((1, 1, 1), (0, 0, 0), (1, 1, 1), 0.0)])
def test_the_formula_is_openColorIOs_asc_style(cdl):
    rgb = (random_colours(5000, seed=31) * 1.6 - 0.3)  # also outside [0, 1], where the clamps act
    np.testing.assert_allclose(apply_cdl(cdl, rgb), _through(_ocio_cdl(cdl, "asc"), rgb), atol=1e-6)


@pytest.mark.parametrize("cdl", [GRADE, Cdl((0.5, 2.0, 1.0), (-0.2, 0.1, 0.0), (2.5, 0.4, 1.0), 1.6)])
def test_without_clamps_it_is_openColorIOs_no_clamp_style(cdl):
    rgb = random_colours(5000, seed=32) * 1.6 - 0.3
    np.testing.assert_allclose(apply_cdl(cdl, rgb, clamp=False), _through(_ocio_cdl(cdl, "noclamp"), rgb),
                               atol=2e-6, rtol=2e-6)


def test_saturation_uses_rec709_luma_weights():
    rgb = random_colours(100, seed=33)
    grey = apply_cdl(Cdl(saturation=0.0), rgb)
    np.testing.assert_allclose(grey, np.repeat((rgb.astype(np.float64) @ REC709_LUMA)[:, None], 3, axis=1), atol=1e-7)


def test_identity_cdl_is_the_identity_on_the_unit_cube():
    rgb = random_colours(1000, seed=34)
    np.testing.assert_allclose(apply_cdl(Cdl(), rgb), rgb, atol=1e-7)


@pytest.mark.parametrize("kwargs", [dict(slope=(-0.1, 1, 1)), dict(power=(1, 0, 1)), dict(saturation=-1.0),
                                    dict(offset=(0, np.nan, 0)), dict(slope=(1, 1))])
def test_impossible_cdls_are_refused(kwargs):
    with pytest.raises(ColourInputError, match="CDL"):
        Cdl(**kwargs)


def test_the_fit_recovers_a_cdl_exactly():
    fit = fit_cdl(lambda rgb: apply_cdl(GRADE, rgb).astype(np.float32))
    np.testing.assert_allclose(fit.cdl.as_vector(), GRADE.as_vector(), atol=1e-5)
    assert fit.delta_e.mean < 1e-3 and fit.encoding == "rec709"
    assert cdl_allowed(fit)


def test_the_identity_fits_the_identity():
    fit = fit_cdl(identity_look)
    np.testing.assert_allclose(fit.cdl.as_vector(), Cdl().as_vector(), atol=1e-6)
    assert fit.delta_e.max < 1e-3


def test_a_film_look_is_approximated_and_its_delta_e_reported():
    fit = fit_cdl(film_look)
    # Measured: mean 1.7, p95 4.9: a CDL has no S-curve and no crosstalk beyond saturation.
    assert 0.5 < fit.delta_e.mean < 3.0 and fit.delta_e.p95 > fit.delta_e.mean
    assert fit.delta_e.count == 4096 + 64
    assert not cdl_allowed(fit)
    assert cdl_allowed(fit, max_mean_delta_e=3.0, max_p95_delta_e=6.0)
    colours = random_colours(4096, seed=1)  # the held-out colours' random part
    untouched = delta_e_stats(delta_e_2000(colours, film_look(colours)))
    assert fit.delta_e.mean < 0.7 * untouched.mean  # measured: 1.7 against 3.0 without a CDL
    assert fit.rms_code_value < 0.03


def test_the_fit_is_deterministic():
    assert fit_cdl(film_look) == fit_cdl(film_look)


def test_a_log_encodings_cdl_rarely_passes():
    fit = fit_cdl(identity_look, "logc3")
    assert fit.encoding == "logc3" and fit.delta_e.mean > 2.0 and not cdl_allowed(fit)


def test_power_stays_at_its_floor_when_a_look_wants_less():
    # A step from black to white at 0.02 pulls every power towards 0; the fit holds it at POWER_MIN.
    fit = fit_cdl(lambda rgb: np.where(rgb > 0.02, 1.0, 0.0).astype(np.float32))
    assert fit.cdl.power == (POWER_MIN, POWER_MIN, POWER_MIN)
    assert min(fit.cdl.slope) >= 0.0 and fit.cdl.saturation >= 0.0


def test_errors():
    with pytest.raises(UnknownEncodingError):
        fit_cdl(film_look, "v-log")
    with pytest.raises(LookFunctionError):
        fit_cdl(lambda rgb: rgb[:, :1])
