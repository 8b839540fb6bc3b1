"""Attribution maps: closed form on a linear model, completeness, and the sanity checks of Adebayo et al."""
import numpy as np
import pytest
import torch
from torch import nn

from mnist_desktop.core.attribution import (GradCam, GradientTimesInput, IntegratedGradients, Scores, Target,
                                            rank_correlation)
from mnist_desktop.core.colours import diverging_rgb
from mnist_desktop.core.predictor import fused_for_inference
from trainer.checkpoint import load_model
from trainer.data import load_mnist
from trainer.iterations import ITERATIONS, MNIST_STD

from .attribution_sanity import mean_rank_correlation, randomised, train_briefly


@pytest.fixture(scope="module")
def test_digits(mnist_dir):
    images, labels = load_mnist("test", mnist_dir, download=False)
    return images[:6].numpy().astype(np.float32) / 255, [int(d) for d in labels[:6]]


def test_on_a_linear_model_the_maps_equal_their_closed_form(test_digits):
    """For f(x) = W (x - mean) / std + b, both methods give x * W[digit] / std (zero baseline), and the
    contrast "7 and not 1" gives x * (W[7] - W[1]) / std."""
    torch.manual_seed(0)
    linear = nn.Linear(784, 10)
    model = Scores(nn.Sequential(nn.Flatten(), linear, nn.LogSoftmax(dim=1)))
    image = test_digits[0][0]
    w = linear.weight.detach().numpy().reshape(10, 28, 28) / MNIST_STD
    for target, expected in ((Target(7), image * w[7]), (Target(7, 1), image * (w[7] - w[1]))):
        ig = IntegratedGradients(model).attribute(image, target)
        np.testing.assert_allclose(ig.map, expected, atol=1e-5)
        assert abs(ig.delta) < 1e-4
        np.testing.assert_allclose(GradientTimesInput(model).attribute(image, target).map, expected, atol=1e-5)


@pytest.mark.parametrize("iteration", list(ITERATIONS))
def test_integrated_gradients_sum_to_the_score_gap_within_one_percent(iteration, test_digits):
    model = Scores(fused_for_inference(load_model(iteration)))
    method = IntegratedGradients(model)
    images, labels = test_digits
    for image, label in zip(images[:2], labels):
        rival = (label + 3) % 10
        with torch.no_grad():
            logits = model(torch.from_numpy(np.stack([image, np.zeros_like(image)])).unsqueeze(1))
        for target in (Target(label), Target(label, rival)):
            gap = (target.score(logits[:1]) - target.score(logits[1:])).item()  # computed here, not by the method
            attribution = method.attribute(image, target)
            assert abs(attribution.map.sum() - gap) <= 0.01 * abs(gap)
            assert attribution.delta == pytest.approx(attribution.map.sum() - gap, abs=1e-3)


def test_grad_cam_looks_at_the_last_conv_and_scales_to_the_input(test_digits):
    model = Scores(fused_for_inference(load_model(5)))
    image, label = test_digits[0][0], test_digits[1][0]
    cam = GradCam(model)
    assert isinstance(cam.head[-2], nn.Conv2d) and cam.head[-2].out_channels == 28  # p32-28, then its ReLU
    result = cam.attribute(image, Target(label))
    assert result.map.shape == (28, 28) and np.abs(result.map).max() > 0


def test_the_map_changes_when_the_labels_were_shuffled(mnist_dir, test_digits):
    """Iteration 1 trained 1 epoch on 2,000 images with true and with shuffled labels: the true-label model's
    maps resemble those of the shipped iteration 1 (also trained honestly) more than the shuffled one's."""
    images, labels = load_mnist("train", mnist_dir, download=False)
    images, labels = images[:2000], labels[:2000]
    shuffled = labels[torch.randperm(2000, generator=torch.Generator().manual_seed(0))]
    honest, fooled = train_briefly(images, labels, seed=0), train_briefly(images, shuffled, seed=0)
    digits, truth = test_digits
    alike = mean_rank_correlation(IntegratedGradients, honest, load_model(1), digits, truth)
    after_shuffling = mean_rank_correlation(IntegratedGradients, honest, fooled, digits, truth)
    assert after_shuffling < alike - 0.1, (after_shuffling, alike)


def test_the_map_changes_when_the_weights_are_randomised(test_digits):
    shipped = load_model(5)
    images, labels = test_digits
    scrambled = randomised(shipped)
    assert not np.allclose(scrambled[0].weight.detach(), shipped[0].weight.detach())
    assert mean_rank_correlation(IntegratedGradients, shipped, scrambled, images[:4], labels[:4]) < 0.5


def test_diverging_colours_red_raised_blue_lowered():
    rgb = diverging_rgb(np.array([[-2.0, 0.0, 1.0, 4.0]]), limit=2.0)
    blue, white, pink, red = rgb[0].astype(int)
    assert blue[2] > blue[0] and red[0] > red[2]
    assert white.min() > 240 and (pink[0] > pink[2]) and red[0] < pink[0]  # halfway is paler than the limit
    shaded = diverging_rgb(np.zeros((1, 2)), limit=1.0, image=np.array([[0.0, 1.0]]))
    assert shaded[0, 1].sum() < shaded[0, 0].sum()  # the digit's ink shows under zero


def test_rank_correlation():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    assert rank_correlation(a, a ** 3) == pytest.approx(1.0)
    assert rank_correlation(a, -a) == pytest.approx(-1.0)
    assert rank_correlation(np.array([0.0, 0.0, 1.0, 2.0]), np.array([5.0, 5.0, 6.0, 7.0])) == pytest.approx(1.0)
