import math

import torch
import torch.nn.functional as F

from trainer.augment import MAX_ROTATION_DEG, augment, augmentation_matrices, normalize, sampling_grid
from trainer.iterations import MNIST_MEAN, MNIST_STD


def test_normalize_matches_the_study():
    x = normalize(torch.tensor([[[0, 255]]], dtype=torch.uint8))
    assert x.shape == (1, 1, 1, 2)
    assert torch.allclose(x.flatten(), torch.tensor([-MNIST_MEAN / MNIST_STD, (1 - MNIST_MEAN) / MNIST_STD]))


def test_shape_range_and_determinism(mnist_dir):
    from trainer import load_mnist

    images = load_mnist("train", mnist_dir, download=False)[0][:256]
    a = augment(images, torch.Generator().manual_seed(3))
    b = augment(images, torch.Generator().manual_seed(3))
    c = augment(images, torch.Generator().manual_seed(4))
    assert a.shape == (256, 1, 28, 28) and a.dtype == torch.float32
    low, high = -MNIST_MEAN / MNIST_STD, (1 - MNIST_MEAN) / MNIST_STD
    assert a.min() >= low - 1e-5 and a.max() <= high + 1e-5
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert not torch.allclose(a, normalize(images))  # it did change the images


def test_rotation_within_bounds_and_zoom_rate():
    theta = augmentation_matrices(20_000, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert theta.shape == (20_000, 2, 2)  # about the centre, no translation
    scale = theta[:, 0].norm(dim=1)
    angles = torch.atan2(theta[:, 1, 0], theta[:, 0, 0])
    assert angles.abs().max() <= math.radians(MAX_ROTATION_DEG) + 1e-6
    assert angles.abs().max() > math.radians(MAX_ROTATION_DEG) * 0.99  # the whole range is used
    zoomed = (scale < 0.99).float().mean().item()
    assert 0.09 < zoomed < 0.11
    assert torch.allclose(scale[scale < 0.99], torch.tensor(22 / 28))


def test_sampling_grid_is_affine_grid():
    theta = augmentation_matrices(64, torch.Generator().manual_seed(1), torch.device("cpu"))
    expected = F.affine_grid(F.pad(theta, (0, 1)), [64, 1, 28, 28], align_corners=False)
    assert torch.allclose(sampling_grid(theta), expected, atol=1e-6)


def test_a_centred_dot_stays_centred():
    image = torch.zeros(1, 28, 28, dtype=torch.uint8)
    image[0, 13:15, 13:15] = 255
    out = augment(image.expand(64, 28, 28), torch.Generator().manual_seed(0))
    assert torch.all(out[:, 0, 12:16, 12:16].amax((1, 2)) > 0)
