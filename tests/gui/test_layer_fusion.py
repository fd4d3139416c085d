"""Selecting several layers in the layer tree asks for a fused map (their paths joined by commas,
which Session.explain fuses); the tree marks every fused layer."""

from __future__ import annotations

from engine.model.layers import LayerInfo

LAYERS = (
    LayerInfo("input", "input", "InputLayer", (None, 32, 32, 3), 0, 0, False),
    LayerInfo("conv1", "conv1", "Conv2D", (None, 32, 32, 8), 224, 0, False),
    LayerInfo("conv2", "conv2", "Conv2D", (None, 16, 16, 16), 1168, 0, False),
    LayerInfo("gap", "gap", "GlobalAveragePooling2D", (None, 16), 0, 0, False),
)


def test_several_selected_layers_are_fused(qtbot):
    from gui.layer_tree import LayerTree

    tree = LayerTree()
    qtbot.addWidget(tree)
    tree.set_layers(LAYERS, "conv2")
    chosen = []
    tree.targetChosen.connect(chosen.append)
    for path in ("conv2", "conv1", "gap"):  # Ctrl+click order does not matter: shallow to deep
        tree.items[path].setSelected(True)
    tree._clicked(tree.items["conv1"], 0)
    assert chosen == ["conv1,conv2"]
    tree.set_target("conv1,conv2")
    assert all(tree.items[p].text(0).startswith("◎") and tree.items[p].font(0).bold() for p in ("conv1", "conv2"))
    assert {i.data(0, 0x0100) for i in tree.selectedItems()} == {"conv1", "conv2"}
    tree.set_target("conv1")
    assert tree.items["conv1"].text(0).startswith("◎") and not tree.items["conv2"].font(0).bold()
