"""Model architectures: shapes, and the log-mel front that undoes the MFCC's DCT."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
from emocap_train import serdata  # noqa: E402
from emocap_train import ser_models  # noqa: E402
from emocap import features  # noqa: E402


@pytest.mark.parametrize("arch", sorted(ser_models.ARCHS))
def test_every_arch_maps_windows_to_logits(arch):
    m = ser_models.build(arch, 7).eval()
    assert m(torch.zeros(3, 1, 40, 128)).shape == (3, 7)


def test_logmel_front_recovers_log_mel_energies(shared_data):
    s = features.FeatureSettings()
    clip = serdata.read_manifest(shared_data / "ser/manifest.csv")[5]
    cep = features.utterance_features(serdata.load_audio(clip.path), s)  # (40, T), mean normalised
    mean, std = np.full(40, 0.3, np.float32), np.linspace(5, 0.5, 40).astype(np.float32)
    front = ser_models.LogMel()
    front.set_input_stats(mean, std)
    z = (cep - mean[:, None]) / std[:, None]
    with torch.no_grad():
        got = front.idct(torch.from_numpy(z[None, None]))[0, :, 0, :].numpy()
    # The MFCC is the orthonormal DCT-II of the log-mel energies: undo it directly.
    from scipy.fft import dct
    expected = np.linalg.solve(dct(np.eye(40), type=2, norm="ortho", axis=0), cep)
    np.testing.assert_allclose(got, expected, atol=1e-3)
    assert not any(p.requires_grad for p in front.idct.parameters())  # fixed, not learned
