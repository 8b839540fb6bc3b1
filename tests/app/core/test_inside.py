"""The Inside view's numbers: each conv layer's maps after its ReLU, labelled from the layer spec, and the logits."""
import numpy as np
import pytest
import torch

from mnist_desktop.core.colours import sequential_rgb
from mnist_desktop.core.inside import conv_layers, explain, look_inside
from mnist_desktop.core.predictor import fused_for_inference
from trainer.augment import normalize
from trainer.checkpoint import load_model
from trainer.data import load_mnist
from trainer.iterations import ITERATIONS


@pytest.fixture(scope="module")
def seven(mnist_dir):
    images, labels = load_mnist("test", mnist_dir, download=False)
    return images[7].numpy().astype(np.float32) / 255, int(labels[7])


@pytest.mark.parametrize("iteration", list(ITERATIONS))
def test_maps_follow_each_iterations_layer_spec(iteration, seven):
    image, _ = seven
    spec = ITERATIONS[iteration].layers.split()
    positions = [i for i, t in enumerate(spec) if t[0] in "cp"]
    inside = look_inside(fused_for_inference(load_model(iteration)), iteration, image)
    assert len(inside.layers) == len(positions) == len(conv_layers(iteration))
    for layer, position in zip(inside.layers, positions):
        token = spec[position]
        c_in, c_out = (int(n) for n in token[1:].split("-"))
        size = 28 // 2 ** spec[:position].count("M")
        assert layer.maps.shape == (c_out, size, size)
        assert layer.maps.min() >= 0  # after the ReLU
        following = spec[position + 1:]
        following = following[:next((i for i, t in enumerate(following) if t[0] in "cpF"), len(following))]
        kernel = "3×3" if token[0] == "c" else "1×1"
        assert layer.layer.label.startswith(f"conv {layer.layer.number}: {kernel}, {c_in}→{c_out}")
        assert ("BatchNorm" in layer.layer.label) == ("B" in following)
        assert f"{c_out} maps {size}×{size}" in layer.layer.label
        assert ("then maxpool" in layer.layer.label) == ("M" in following)


def test_maps_are_taken_after_the_relu_before_the_pool_whatever_the_module_order(seven):
    """Iteration 5 runs conv, BatchNorm, maxpool, ReLU; the first maps are ReLU(BN(conv(x))) at 28×28."""
    image, _ = seven
    model = load_model(5)
    conv, norm = model[0], model[1]
    with torch.no_grad():
        expected = torch.relu(norm(conv(normalize(torch.from_numpy(image).view(1, 1, 28, 28)))))[0].numpy()
    plain, fused = look_inside(model, 5, image), look_inside(fused_for_inference(model), 5, image)
    np.testing.assert_allclose(plain.layers[0].maps, expected, atol=1e-5)
    for a, b in zip(plain.layers, fused.layers):
        np.testing.assert_allclose(a.maps, b.maps, atol=1e-4)
    np.testing.assert_allclose(plain.logits, fused.logits, atol=1e-4)


def test_logits_give_the_models_probabilities_and_explain_picks_top_and_runner_up(seven):
    image, label = seven
    model = fused_for_inference(load_model(3))
    with torch.no_grad():
        probabilities = model(normalize(torch.from_numpy(image).view(1, 1, 28, 28))).exp()[0].numpy()
    result = explain(model, 3, image)
    logits = result.inside.logits
    np.testing.assert_allclose(np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum(), probabilities,
                               atol=1e-5)
    ranked = np.argsort(logits)[::-1]
    assert result.why.target.digit == ranked[0] == label
    assert (result.why_not.target.digit, result.why_not.target.rival) == (ranked[0], ranked[1])
    chosen = explain(model, 3, image, digit=2)
    assert chosen.why.target.digit == 2 and chosen.why_not.target.rival == ranked[0]


def test_a_model_of_another_architecture_is_refused(seven):
    with pytest.raises(ValueError, match="layer spec"):
        look_inside(fused_for_inference(load_model(1)), 5, seven[0])


def test_sequential_colours_run_dark_to_bright():
    rgb = sequential_rgb(np.array([0.0, 1.0, 2.0, 4.0]), peak=2.0)
    assert rgb.shape == (4, 3) and rgb.dtype == np.uint8
    assert rgb[0].sum() < rgb[1].sum() < rgb[2].sum()
    assert (rgb[2] == rgb[3]).all()  # clipped at the peak


def test_the_maps_are_saved_as_pngs_named_by_file_iteration_and_what(seven, tmp_path):
    from PIL import Image

    from mnist_desktop.core.inside import PNG_SCALE, ExplanationWriteError, save_explanation

    image, label = seven
    result = explain(fused_for_inference(load_model(5)), 5, image)
    rival = result.why_not.target.rival
    written = save_explanation(result, tmp_path / "maps", "seven")
    names = sorted(p.name for p in written)
    assert names == sorted([f"seven-iteration5-why-{label}.png", f"seven-iteration5-why-{label}-not-{rival}.png"]
                           + [f"seven-iteration5-conv{k}.png" for k in range(1, 6)])
    why = np.asarray(Image.open(tmp_path / "maps" / f"seven-iteration5-why-{label}.png"))
    assert why.shape == (28 * PNG_SCALE, 28 * PNG_SCALE, 3)
    conv1 = Image.open(tmp_path / "maps" / "seven-iteration5-conv1.png")
    assert conv1.size == ((8 * 29 - 1) * PNG_SCALE, 28 * PNG_SCALE)  # 8 maps of 28×28 in a row, 1-pixel gaps
    (tmp_path / "a file").write_text("")
    with pytest.raises(ExplanationWriteError, match="Choose a folder you can write to"):
        save_explanation(result, tmp_path / "a file", "seven")
