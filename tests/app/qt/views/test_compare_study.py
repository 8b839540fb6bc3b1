"""Compare shows a multi-seed study: mean ± std in the table, mean curves with a band in the chart."""
from PySide6.QtCharts import QAreaSeries, QLineSeries

from mnist_desktop._qt.views.compare import CompareView
from mnist_desktop.core.predictor import Predictor
from trainer.report import read_metrics
from trainer.study import StudyPlan, run_study


def test_compare_shows_a_real_study_with_bands(qtbot, mnist_dir, tmp_path):
    plan = StudyPlan((1,), (0, 1), tmp_path, device="cpu", data_dir=str(mnist_dir), train_limit=640)
    study = run_study(plan, jobs=1, print_line=lambda line: None)
    predictor = Predictor()
    predictor.load_all()
    view = CompareView(read_metrics())
    qtbot.addWidget(view)
    view.set_predictor(predictor)
    assert view.chart.title().endswith("weights in use")
    column = CompareView.TABLE_COLUMNS.index("Test accuracy\nover seeds\n(mean ± std)")
    assert view.table.item(1, column).text() == "not run"

    view.set_study(study)
    entry = study["iterations"]["1"]
    assert view.table.item(0, column).text() == f"{entry['mean']:.2f} ± {entry['std']:.2f}%"
    assert view.table.item(0, column).toolTip().endswith("over 2 seeds")
    assert view.table.item(1, column).text() == "not run"
    bands = [s for s in view.chart.series() if isinstance(s, QAreaSeries)]
    lines = [s for s in view.chart.series() if isinstance(s, QLineSeries)]
    assert len(bands) == 1 and [s.name() for s in lines] == ["1 (2 seeds)"] == view.chart_view.legend.names
    (point,) = lines[0].points()
    assert point.y() == entry["curve_mean"][0]
    assert bands[0].upperSeries().points()[0].y() - point.y() == entry["curve_std"][0]
