"""Names vulture (`python -m vulture`, configured in pyproject.toml) counts as unused that are used
by something it cannot see: Qt calls the overrides, Python the module __getattr__, Ray reads the
DataContext settings, pytest the fixtures by their argument names; the rest are kept alive on
purpose. Anything else vulture reports is dead code: delete it."""

# ruff: noqa: B018, F821

__getattr__  # engine/__init__.py: the lazy `engine.Session` (PEP 562)
_.preserve_order  # Ray Data's DataContext options, read by Ray
_.enable_progress_bars
_.paint  # Qt overrides: QStyledItemDelegate.paint, QGraphicsWidget.paint
_.filterAcceptsRow  # QSortFilterProxyModel
source_parent  # its Qt-given argument
constraint  # QGraphicsLayoutItem.sizeHint's Qt-given argument
_.dragEnterEvent  # QWidget event handlers
_.wheelEvent
_._mouse  # gui/canvas.py: the SignalProxy must stay referenced or it stops delivering
kept_by_class  # resources/demo/measure_trust.py: a field of the figures it prints as JSON
pytestmark  # pytest: module-wide marks
h5_file  # pytest fixtures, requested by name
two_nodes
local_ray
last_run
qapp
_.random_deletion_auc  # engine/review/rows.py: review columns, read by name from the declarations
_.random_insertion_auc
_.insertion_auc  # engine/trust/faithfulness.py: a figure read by name into the review's columns
_.first_paint  # gui/app.py: keeps the first-paint hook referenced until it has run
_.compute_output_shape  # tests/engine/test_features.py: a Keras layer override, called by Keras
_.removal_probability_a  # engine/review/compare.py: comparison columns, read by name from the declarations
_.removal_probability_b
_.log_severity_level  # engine/model/onnx_runtime.py: onnxruntime.SessionOptions, read by the runtime
_.optimizations  # resources/demo/export_demo.py: TFLiteConverter settings, read by convert()
_.supported_types
_.representative_dataset
_.supported_ops
_.inference_input_type
_.inference_output_type
_.only_mutate  # tests/mutation/run.py: mutmut's config object, read by mutmut
_.pytest_add_cli_args_test_selection
_.mouseDragEvent  # gui/drawing/layer.py: pyqtgraph's mouse event overrides
_.mouseClickEvent
tags  # tests/engine/test_review_rows_mutants.py: a dataclass field declared only to be refused
_no_override  # pytest autouse fixtures: run by pytest, never called by name
_numpy_tensors
_.dont_write_bytecode  # tests/mutation/run.py: sys and mutmut's configuration, read by Python and mutmut
_.forkserver_warmup
_.preload_modules_file
_.timeout_constant
_.timeout_multiplier
