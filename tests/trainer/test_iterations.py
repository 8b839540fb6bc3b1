import pytest
import torch

from trainer import ITERATIONS, build_model, count_parameters
from trainer.iterations import describe_layers

STUDY_PARAMETERS = {1: 26_714, 2: 24_210, 3: 18_374, 4: 20_514, 5: 18_422, 6: 18_422, 7: 18_422}


@pytest.mark.parametrize("iteration", sorted(STUDY_PARAMETERS))
def test_parameter_count_matches_the_study(iteration):
    model = build_model(iteration)
    assert count_parameters(model) == STUDY_PARAMETERS[iteration] == ITERATIONS[iteration].params


@pytest.mark.parametrize("iteration", sorted(ITERATIONS))
def test_forward_gives_log_probabilities(iteration):
    out = build_model(iteration).eval()(torch.randn(3, 1, 28, 28))
    assert out.shape == (3, 10)
    assert torch.allclose(out.exp().sum(1), torch.ones(3), atol=1e-5)


def test_relu_follows_every_conv_and_batchnorm_precedes_it():
    layers = list(build_model(5))
    convs = [i for i, layer in enumerate(layers) if isinstance(layer, torch.nn.Conv2d)]
    assert len(convs) == 5
    relus = sum(isinstance(layer, torch.nn.ReLU) for layer in layers)
    assert relus == 5
    assert isinstance(layers[convs[0] + 1], torch.nn.BatchNorm2d)


def test_dropout_of_iteration_7():
    rates = [layer.p for layer in build_model(7) if isinstance(layer, torch.nn.Dropout)]
    assert rates == [0.1, 0.2, 0.3, 0.5]


def test_unknown_iteration_is_a_clear_error():
    with pytest.raises(ValueError, match="choose one of 1-7"):
        build_model(9)


def test_layers_are_described_for_people():
    assert describe_layers(1).startswith("conv3x3 1→16 · maxpool")
