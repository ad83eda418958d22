"""OutputRecorder: per-sample outputs at chosen epochs, in sample order."""

import numpy as np
import pytest

from skprune.nets import infer, make_default_net, seeded
from skprune.recording import OutputRecorder


def _fit(X, y, recorder, epochs=3):
    net = make_default_net(X, 4, max_epochs=epochs, device="cpu")
    net.set_params(callbacks=[("record", recorder)])
    with seeded(0):
        net.fit(X, y)
    return net


def test_records_chosen_epochs_in_sample_order(small_data):
    X, y = small_data
    recorder = OutputRecorder(epochs=[1, 3], embedding=True, keep_params=True)
    net = _fit(X, y, recorder)
    assert recorder.epochs_ == [1, 3]
    logits = recorder.stacked_logits()
    assert logits.shape == (2, 200, 4)
    # the last record is the final model's output for sample i, row by row
    np.testing.assert_allclose(logits[-1], infer(net, X).logits, rtol=1e-5, atol=1e-6)
    assert recorder.embeddings_[0].shape == (200, 256)
    assert set(recorder.params_[0]) == set(net.module_.state_dict())
    assert not np.allclose(logits[0], logits[1])  # training moved between the records


def test_records_on_fixed_data_in_float16(small_data):
    X, y = small_data
    recorder = OutputRecorder(X=X[:10], dtype="float16")
    _fit(X, y, recorder, epochs=2)
    assert recorder.logits_[0].dtype == np.float16 and recorder.logits_[0].shape == (10, 4)
    assert recorder.stacked_logits().dtype == np.float32


def test_bad_dtype_and_empty_records():
    with pytest.raises(ValueError, match="dtype must be"):
        OutputRecorder(dtype="int8").initialize()
    with pytest.raises(ValueError, match="no epoch was recorded"):
        OutputRecorder().initialize().stacked_logits()


def test_epochs_may_be_a_generator_and_bad_epochs_fail_before_training(small_data):
    X, y = small_data
    recorder = OutputRecorder(epochs=(e for e in [1, 3]))
    _fit(X, y, recorder)
    assert recorder.epochs_ == [1, 3]
    floats = OutputRecorder(epochs=np.linspace(1, 3, 3))
    _fit(X, y, floats)
    assert floats.epochs_ == [1, 2, 3]
    for bad in (2, [0], ["1"], [1.5], [True]):
        with pytest.raises(ValueError, match="epochs must"):
            OutputRecorder(epochs=bad).initialize()
    with pytest.warns(UserWarning, match=r"go beyond max_epochs=3"):
        _fit(X, y, OutputRecorder(epochs=[2, 5]))


def test_recording_does_not_change_what_the_net_learns(small_data):
    X, y = small_data
    # batch_size below n: the batch order of later epochs comes from torch's RNG,
    # which the recorder's inference passes must leave alone.
    plain = _fit(X, y, OutputRecorder(epochs=[]))
    recorded = _fit(X, y, OutputRecorder())
    for name, value in plain.module_.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), recorded.module_.state_dict()[name].numpy())
