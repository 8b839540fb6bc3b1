import numpy as np
import pytest

from mnist_desktop.core.predictor import Predictor
from mnist_desktop.core.render import (STROKE_WIDTH, is_speck, render_as_drawn, render_strokes,
                                       stroke_width)
from mnist_desktop.core.strokes import Drawing, Stroke
from trainer.data import load_mnist

from .nondigits import DIGITS, handwritten


def digit(number: int, box=(0.15, 0.15, 0.7, 0.7), brush=0.07, seed=0) -> Drawing:
    return Drawing(strokes=tuple(handwritten(DIGITS[number], np.random.default_rng(seed), box, brush)))


def test_the_pen_is_as_wide_as_mnists_strokes(mnist_dir):
    """Rendered digits measure the same stroke width as MNIST's training digits (median, in 28x28 pixels)."""
    images, _ = load_mnist("train", mnist_dir)
    mnist = float(np.median(stroke_width(images[:5000].numpy() / 255.0)))
    rendered = float(np.median([stroke_width(render_strokes(digit(d, seed=s))) for d in range(10) for s in range(3)]))
    assert mnist == pytest.approx(2.36, abs=0.05)  # the figure render.py's docstring quotes
    assert rendered == pytest.approx(mnist, rel=0.08)
    assert 2 < STROKE_WIDTH < 3


def test_size_place_and_brush_do_not_matter():
    """The same strokes drawn small in a corner with a fat brush, or large with a thin one, give the models
    the same image and so the same answer."""
    predictor = Predictor()
    predictor.load(5)
    for number in range(10):
        images = [render_strokes(digit(number, box, brush)) for box, brush in
                  [((0.15, 0.15, 0.7, 0.7), 0.07), ((0.02, 0.02, 0.12, 0.12), 0.07), ((0.7, 0.75, 0.2, 0.2), 0.015),
                   ((0.05, 0.05, 0.9, 0.9), 0.2)]]
        for image in images[1:]:
            assert np.abs(image - images[0]).mean() < 0.02
        answers = {int(predictor.predict(image)[5].argmax()) for image in images}
        assert answers == {number}


def test_output_is_like_mnist():
    image = render_strokes(digit(7))
    assert image.shape == (28, 28) and image.dtype == np.float32 and image.max() == pytest.approx(1.0)
    rows, cols = np.nonzero(image > 0.3)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 in (19, 20, 21)
    ys, xs = np.indices(image.shape)
    assert abs((ys * image).sum() / image.sum() - 14) <= 0.5 and abs((xs * image).sum() / image.sum() - 14) <= 0.5


def test_a_dot_is_a_speck_and_stays_a_dot():
    dot = Drawing(strokes=(Stroke(((0.5, 0.5),), 0.07),))
    assert is_speck(dot)
    assert (render_strokes(dot) > 0.5).sum() < 12  # a few pixels, not a filled disc
    assert not is_speck(digit(1)) and not is_speck(digit(1, box=(0.4, 0.4, 0.05, 0.05), brush=0.01))


def test_the_eraser_and_nothing_left():
    one = digit(1)
    erased = Drawing(strokes=one.strokes + (Stroke(((0.0, 0.5), (1.0, 0.5)), 0.3, eraser=True),))
    assert render_strokes(erased).sum() < render_strokes(one).sum()
    everything = Drawing(strokes=one.strokes + (Stroke(((0.5, 0.5),), 3.0, eraser=True),))
    assert render_strokes(everything) is None
    assert render_strokes(Drawing()) is None


def test_a_hairline_eraser_over_a_wide_brush():
    """Ink drawn with a wide brush, erased with a thin one: the eraser's line is under a pixel wide on the
    fine canvas, and its joins must not be drawn (PIL refuses a disc of negative size)."""
    one = Drawing(strokes=tuple(handwritten(DIGITS[3], np.random.default_rng(0), brush=0.2)))
    wiggle = tuple((0.2 + 0.6 * t, 0.5 + 0.05 * np.sin(20 * t)) for t in np.linspace(0, 1, 30))
    erased = Drawing(strokes=one.strokes + (Stroke(wiggle, 0.01, eraser=True),))
    assert 0 < render_strokes(erased).sum() < render_strokes(one).sum()


def test_render_as_drawn_puts_the_picture_under_the_strokes():
    picture = np.zeros((20, 10), np.uint8)
    picture[:, 4:6] = 255
    gray = render_as_drawn(Drawing(background=picture, strokes=(Stroke(((0.1, 0.9), (0.3, 0.9)), 0.05),)))
    assert gray.shape == (280, 280)
    assert gray[140, 140] == 255 and gray[140, 10] == 0  # the picture's bar, fitted and centred
    assert gray[252, 56] == 255  # the stroke
