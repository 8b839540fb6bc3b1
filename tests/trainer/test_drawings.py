import torch

from trainer import calibration
from trainer.checkpoint import model_from_checkpoint, read_checkpoint, save_checkpoint
from trainer.data import load_mnist
from trainer.drawings import train_drawings_model
from trainer.iterations import DRAWINGS, ITERATIONS, MODELS, build_model, count_parameters, get_iteration


def test_the_model_made_for_drawings_stands_beside_the_seven():
    assert sorted(ITERATIONS) == list(range(1, 8))  # what loops over the seven see
    assert MODELS[DRAWINGS.number] is get_iteration(DRAWINGS.number) is DRAWINGS
    assert count_parameters(build_model(DRAWINGS.number)) == ITERATIONS[5].params


def test_its_checkpoint_is_written_and_read_back(mnist_dir, tmp_path):
    """One short epoch on 512 MNIST digits and 512 'drawn' ones (here MNIST's next 512)."""
    images, labels = load_mnist("train", mnist_dir)
    test_images, test_labels = load_mnist("test", mnist_dir)
    checkpoint = train_drawings_model((images[:512], labels[:512]), (images[512:1024], labels[512:1024]),
                                      (test_images[:500], test_labels[:500]), seed=1, epochs=1)
    path = save_checkpoint(checkpoint, tmp_path / "iteration8.pt")
    again = read_checkpoint(path)
    info = again.info
    assert info.iteration == DRAWINGS.number and info.train_images == 1024 and len(info.history) == 1
    assert calibration.KEY in info.extra
    model = model_from_checkpoint(again, DRAWINGS.number)
    with torch.no_grad():
        assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
