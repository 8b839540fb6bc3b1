"""mnist-train bench: its training figure is a valid run whatever the measuring time (no timing asserted)."""
from trainer.bench import throughput_config


def test_the_throughput_run_is_capped_at_one_epoch_of_the_training_set():
    # The default 20 s asks for 2,000 batches of 64 = 128,000 images, more than TrainConfig accepts.
    assert throughput_config(None, "cpu", batches=2_000).train_limit == 60_000
    assert throughput_config(None, "cpu", batches=10).train_limit == 640
