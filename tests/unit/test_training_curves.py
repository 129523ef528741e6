"""The curves read from Bedrock's metrics CSVs, their thinning, and the overfitting diagnosis."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from customization_core.training_curves import (
    MAX_POINTS,
    Curves,
    curves_from_files,
    diagnose,
    downsample,
)

TRAINING_KEY = "training_artifacts/step_wise_training_metrics.csv"
VALIDATION_KEY = (
    "validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv"
)


def _training_csv(losses_by_epoch: Sequence[Sequence[float]], first_epoch: int = 0) -> str:
    lines = ["step_number,epoch_number,training_loss,perplexity"]
    step = 0
    for epoch, losses in enumerate(losses_by_epoch, start=first_epoch):
        for loss in losses:
            lines.append(f"{step},{epoch},{loss},{2.7**loss:.3f}")
            step += 1
    return "\n".join(lines) + "\n"


def _validation_csv(losses: Sequence[float], first_epoch: int = 0, steps_per_epoch: int = 3) -> str:
    lines = ["step_number,epoch_number,validation_loss,perplexity"]
    for epoch, loss in enumerate(losses, start=first_epoch):
        lines.append(f"{(epoch - first_epoch + 1) * steps_per_epoch - 1},{epoch},{loss},1.0")
    return "\n".join(lines) + "\n"


def _files(training: str, validation: str | None = None) -> dict[str, str]:
    files = {TRAINING_KEY: training}
    if validation is not None:
        files[VALIDATION_KEY] = validation
    return files


# Training falls every epoch; validation is lowest at the second epoch, then rises 10 %+.
FALLING = [[2.0, 1.8, 1.6], [1.4, 1.2, 1.0], [0.9, 0.8, 0.7], [0.6, 0.5, 0.4]]
TURNING = [0.9, 0.6, 0.66, 0.72]


def test_good_files_give_both_loss_curves_and_epoch_means() -> None:
    # Given the two files a fine-tuning job writes
    files = _files(_training_csv(FALLING), _validation_csv(TURNING))
    # When they are read
    curves = curves_from_files(files)
    # Then every training row is a point, and each epoch's mean is exact
    assert curves.training_loss[0] == (0.0, 2.0)
    assert curves.training_loss[-1] == (11.0, 0.4)
    assert len(curves.training_loss) == 12
    assert curves.validation_loss == ((2.0, 0.9), (5.0, 0.6), (8.0, 0.66), (11.0, 0.72))
    assert curves.training_epochs[1] == pytest.approx(1.2)
    assert dict(curves.validation_epochs) == {0: 0.9, 1: 0.6, 2: 0.66, 3: 0.72}
    assert not curves.rewards
    assert not curves.empty


def test_blank_and_bad_cells_and_extra_columns_are_skipped() -> None:
    # Given a file with a blank loss, a non-numeric one, a NaN, and an extra column
    text = (
        "step_number,epoch_number,training_loss,perplexity,learning_rate\n"
        "0,0,1.5,4.4,0.001\n"
        "1,0,,4.0,0.001\n"
        "2,0,oops,4.0,0.001\n"
        "3,0,nan,4.0,0.001\n"
        "4,0,1.1,3.0,0.001\n"
    )
    # When it is read
    curves = curves_from_files(_files(text))
    # Then only the two good rows remain, and the extra column is not a curve
    assert curves.training_loss == ((0.0, 1.5), (4.0, 1.1))
    assert curves.training_epochs == {0: pytest.approx(1.3)}
    assert curves.validation_loss == ()


def test_missing_columns_drop_their_curve_without_failing() -> None:
    # Given a file without epoch or step columns, and one without any loss column
    files = {
        TRAINING_KEY: "training_loss\n1.0\n0.5\n",
        VALIDATION_KEY: "step_number,epoch_number,perplexity\n0,0,1.0\n",
        "notes.txt": "training_loss\n99\n",
    }
    # When they are read
    curves = curves_from_files(files)
    # Then the training curve uses the row index as its step, has no epoch means,
    # the validation file gives nothing and the non-CSV key is ignored
    assert curves.training_loss == ((0.0, 1.0), (1.0, 0.5))
    assert curves.training_epochs == {}
    assert curves.validation_loss == ()


def test_an_empty_or_header_only_file_gives_empty_curves() -> None:
    curves = curves_from_files({TRAINING_KEY: "", VALIDATION_KEY: "step_number,validation_loss\n"})
    assert curves.empty
    assert curves_from_files({}).empty


def test_rft_reward_columns_become_reward_curves() -> None:
    # Given an RFT metrics file with reward columns (and one with a blank cell)
    text = (
        "step,critic/rewards/mean,critic/rewards/max,val-score/rewards/mean@1,other\n"
        "1,0.1,0.5,,7\n"
        "2,0.3,0.9,0.2,7\n"
    )
    # When it is read
    curves = curves_from_files({"rft/metrics.csv": text})
    # Then each reward column is a curve against the step, in name order
    assert list(curves.rewards) == [
        "critic/rewards/max",
        "critic/rewards/mean",
        "val-score/rewards/mean@1",
    ]
    assert curves.rewards["critic/rewards/mean"] == ((1.0, 0.1), (2.0, 0.3))
    assert curves.rewards["val-score/rewards/mean@1"] == ((2.0, 0.2),)
    assert curves.training_loss == ()
    assert not curves.empty


def test_long_curves_are_thinned_keeping_first_last_and_extremes() -> None:
    # Given a 5,000-step training file with one spike and one dip in the middle
    losses = [2.0 - i / 5000 for i in range(5000)]
    losses[2345] = 9.0
    losses[3456] = -1.0
    lines = ["step_number,epoch_number,training_loss"] + [
        f"{i},{i // 1000},{loss}" for i, loss in enumerate(losses)
    ]
    # When it is read
    curves = curves_from_files({TRAINING_KEY: "\n".join(lines)})
    # Then at most MAX_POINTS remain, in step order, with the ends and the extremes kept
    points = curves.training_loss
    assert len(points) <= MAX_POINTS
    assert len(points) > MAX_POINTS // 2
    assert points[0] == (0.0, 2.0)
    assert points[-1] == (4999.0, losses[-1])
    assert (2345.0, 9.0) in points
    assert (3456.0, -1.0) in points
    assert [p[0] for p in points] == sorted(p[0] for p in points)
    # and the epoch means still use every row
    assert curves.training_epochs[2] == pytest.approx(sum(losses[2000:3000]) / 1000)


@pytest.mark.parametrize("count", [0, 1, 2, 499, 500, 501, 1999])
def test_downsample_bounds(count: int) -> None:
    points = [(float(i), float(i % 7)) for i in range(count)]
    kept = downsample(points)
    assert len(kept) == min(count, MAX_POINTS)
    if count:
        assert kept[0] == points[0]
        assert kept[-1] == points[-1]


def test_overfitting_is_diagnosed_at_the_validation_minimum() -> None:
    # Given epochs numbered from 0, validation lowest in file epoch 1 (the second epoch)
    curves = curves_from_files(_files(_training_csv(FALLING), _validation_csv(TURNING)))
    # When the run (epochCount 4) is diagnosed
    diagnosis = diagnose(curves)
    # Then validation turned after the second epoch: epochCount=2 would have stopped there
    assert diagnosis is not None
    assert diagnosis.turned_after_epoch == 2
    assert diagnosis.epoch_count == 2
    assert diagnosis.best_validation_loss == pytest.approx(0.6)
    assert diagnosis.last_validation_loss == pytest.approx(0.72)
    assert diagnosis.sentence == (
        "Validation loss rose after epoch 2 while training loss kept falling (overfitting): "
        "epochCount=2 would have stopped at its lowest validation loss (0.60)."
    )


def test_epochs_numbered_from_one_map_to_the_same_epoch_count() -> None:
    # Given the same run with the file's epochs numbered from 1
    files = _files(_training_csv(FALLING, first_epoch=1), _validation_csv(TURNING, first_epoch=1))
    # When diagnosed
    diagnosis = diagnose(curves_from_files(files))
    # Then file epoch 2 is epoch 2
    assert diagnosis is not None
    assert diagnosis.epoch_count == 2


def test_an_early_stopped_job_numbered_from_one_is_not_read_as_from_zero() -> None:
    # Given a job of epochCount 3 that stopped early after its second epoch (early stopping
    # fires when validation loss rises), its file numbering epochs 1 and 2
    training = [[1.5, 1.4], [1.0, 0.9]]
    files = _files(
        _training_csv(training, first_epoch=1), _validation_csv([0.6, 0.7], first_epoch=1)
    )
    # When diagnosed
    diagnosis = diagnose(curves_from_files(files))
    # Then validation was lowest after epoch 1 (not 2, as "last epoch = epochCount - 1" read it)
    assert diagnosis is not None
    assert diagnosis.epoch_count == 1


def test_no_diagnosis_when_both_losses_fall() -> None:
    curves = curves_from_files(
        _files(_training_csv(FALLING), _validation_csv([0.9, 0.7, 0.6, 0.5]))
    )
    assert diagnose(curves) is None


def test_no_diagnosis_for_a_rise_within_two_percent() -> None:
    # Given validation 1 % above its minimum at the end: noise, not a turn
    curves = curves_from_files(_files(_training_csv(FALLING), _validation_csv([0.9, 0.6, 0.606])))
    assert diagnose(curves) is None


def test_no_diagnosis_when_training_loss_rises_too() -> None:
    # Given both losses rising after epoch 2: not the overfitting pattern
    rising = [[2.0, 1.8], [1.0, 0.9], [1.2, 1.3], [1.5, 1.6]]
    curves = curves_from_files(_files(_training_csv(rising), _validation_csv(TURNING)))
    assert diagnose(curves) is None


def test_no_diagnosis_without_validation_data() -> None:
    curves = curves_from_files(_files(_training_csv(FALLING)))
    assert diagnose(curves) is None
    assert diagnose(Curves()) is None
