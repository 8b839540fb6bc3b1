import json

import numpy as np
import pytest

from mnist_desktop.core.corpus import UNIPEN_HELD_OUT, jittered, styles
from mnist_desktop.core.drawn_digits import training_digits, unipen_digits
from mnist_desktop.core.strokes import Drawing, Stroke
from trainer.iterations import DRAWINGS
from trainer.paths import shipped_weights_path

STYLES = ("slashed 0", "barred 7", "open 4", "closed 4", "flagged 1", "looped 2")


@pytest.fixture
def unipen(tmp_path):
    """A UNIPEN folder of three digits: two by training contributors, one by a held-out one."""
    strokes = [[[0, 0], [0, 40]], [[0, 0], [20, 0], [5, 40]]]
    drawings = [{"label": "1", "writer": "apb/w000", "strokes": strokes[:1]},
                {"label": "7", "writer": "tos/w003", "strokes": strokes[1:]},
                {"label": "1", "writer": f"{UNIPEN_HELD_OUT[0]}/w001", "strokes": strokes[:1]}]
    (tmp_path / "digits.json").write_text(json.dumps(drawings))
    return tmp_path


def test_held_out_contributors_are_never_trained_on(unipen):
    _, labels = unipen_digits(unipen, held_out=False)
    _, held_labels = unipen_digits(unipen, held_out=True)
    assert labels.tolist() == [1, 7] and held_labels.tolist() == [1]


def test_the_drawn_digits_are_a_function_of_the_seed(unipen, mnist_dir):
    from trainer.data import load_mnist

    images, labels = load_mnist("train", mnist_dir)
    images, labels = images[:20].numpy(), labels[:20].numpy()
    first = training_digits(images, labels, unipen, seed=3, style_copies=2)
    again = training_digits(images, labels, unipen, seed=3, style_copies=2)
    other = training_digits(images, labels, unipen, seed=4, style_copies=2)
    assert first[0].dtype == np.uint8 and first[0].shape[1:] == (28, 28)
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])
    # MNIST's 20, the two training contributors' digits 4 times each, and every style twice.
    assert len(first[1]) == 20 + 2 * 4 + 2 * len(styles(np.random.default_rng(0)))


def style_drawing(name: str, seed: int) -> tuple[int, Drawing]:
    """One style drawn as on the canvas: jittered strokes in the middle of the drawing area."""
    rng = np.random.default_rng([seed, 99])
    digit, paths = styles(rng)[name]
    paths = jittered(paths, rng, 1.0, joins=False)
    points = np.concatenate(paths)
    low, high = points.min(0), points.max(0)
    scale = 0.6 / float((high - low).max())
    return digit, Drawing(strokes=tuple(Stroke(tuple(map(tuple, (p - low) * scale + 0.2)), 0.04) for p in paths))


@pytest.mark.skipif(not shipped_weights_path(DRAWINGS.number).is_file(), reason="no model made for drawings")
@pytest.mark.parametrize("name", STYLES)
def test_each_style_is_read_right_by_the_model_made_for_drawings(name):
    """Ten drawings of each style, through the window's recognition path, answered by the model made for
    drawings."""
    from mnist_desktop.core.predictor import Predictor
    from mnist_desktop.core.recognition import drawing_input, recognise

    predictor = Predictor()
    predictor.load(DRAWINGS.number)
    drawings = [style_drawing(name, seed) for seed in range(10)]
    results = recognise(predictor, [drawing_input(d) for _, d in drawings], DRAWINGS.number)
    answers = [int(np.argmax(r.probabilities[DRAWINGS.number])) for r in results]
    assert answers == [digit for digit, _ in drawings]
