def test_torchvision_imports_and_its_operators_run():
    """A CPU-only torch with the registry's torchvision fails here with 'torchvision::nms does not exist':
    running one of torchvision's compiled operators proves the pair matches."""
    import torch
    from torchvision.ops import nms

    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
    keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)
    assert keep.tolist() == [0, 2]
