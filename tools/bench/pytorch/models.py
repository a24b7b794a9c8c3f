"""PyTorch twins of Mnemo's benchmark backbones (packages/models/src/backbones), layer for layer.

Conv-4: 4 x [conv3x3 64 (no bias), BN, ReLU, max-pool 2] -> flatten -> linear.
CIFAR ResNet-20/32: stem conv3x3 16 + BN + ReLU, 3 stages of n basic blocks (16/32/64 channels,
strides 1/2/2), where the shape changes either 1x1-conv + BN shortcuts (option B, the throughput
benchmark's) or option A (stride-2 subsampling + zero channels, Mnemo's config default and the
end-to-end benchmark's), global average pool, linear head. Reduced ResNet-18 (GEM): nf = 20, [2, 2, 2, 2] blocks,
strides 1/2/2/2, 1x1-conv shortcuts, 160-d features.
Only the shapes and FLOPs have to match Mnemo's: these networks are timed, not compared.
"""
import torch
from torch import nn
import torch.nn.functional as F


class Conv4(nn.Module):
    def __init__(self, classes: int, width: int = 64, in_ch: int = 3, size: int = 32):
        super().__init__()
        layers = []
        c = in_ch
        for _ in range(4):
            layers += [nn.Conv2d(c, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width * (size // 16) ** 2, classes)

    def forward(self, x):
        return self.head(torch.flatten(self.features(x), 1))


class ZeroPadShortcut(nn.Module):
    """Option A: x[:, :, ::s, ::s] and the extra channels as zeros split evenly on both sides."""

    def __init__(self, in_c: int, out_c: int, stride: int):
        super().__init__()
        self.stride = stride
        self.before = (out_c - in_c) // 2
        self.after = out_c - in_c - self.before

    def forward(self, x):
        return F.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, self.before, self.after))


class BasicBlock(nn.Module):
    def __init__(self, in_c: int, out_c: int, stride: int, shortcut: str = "conv"):
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, out_c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_c)
        self.conv2 = nn.Conv2d(out_c, out_c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_c)
        self.shortcut = None
        if (stride != 1 or in_c != out_c) and shortcut == "identity":
            self.shortcut = ZeroPadShortcut(in_c, out_c, stride)
        elif stride != 1 or in_c != out_c:
            self.shortcut = nn.Sequential(nn.Conv2d(in_c, out_c, 1, stride, bias=False), nn.BatchNorm2d(out_c))

    def forward(self, x):
        r = F.relu(self.bn1(self.conv1(x)), inplace=True)
        r = self.bn2(self.conv2(r))
        s = x if self.shortcut is None else self.shortcut(x)
        return F.relu(r + s, inplace=True)


class ResNet(nn.Module):
    def __init__(self, stem: int, channels, blocks, strides, classes: int, in_ch: int = 3, shortcut: str = "conv"):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_ch, stem, 3, 1, 1, bias=False), nn.BatchNorm2d(stem), nn.ReLU(inplace=True))
        layers = []
        c = stem
        for out_c, n, s in zip(channels, blocks, strides):
            for b in range(n):
                layers.append(BasicBlock(c, out_c, s if b == 0 else 1, shortcut))
                c = out_c
        self.blocks = nn.Sequential(*layers)
        self.feature_dim = c
        self.head = nn.Linear(c, classes)

    def features(self, x):
        return self.blocks(self.stem(x)).mean(dim=(2, 3))

    def forward(self, x):
        return self.head(self.features(x))


def create(name: str, classes: int, shortcut: str = "conv") -> nn.Module:
    """`shortcut`: "conv" (option B) or "identity" (option A) for the CIFAR ResNets."""
    if name == "conv4":
        return Conv4(classes)
    if name == "resnet20":
        return ResNet(16, [16, 32, 64], [3, 3, 3], [1, 2, 2], classes, shortcut=shortcut)
    if name == "resnet32":
        return ResNet(16, [16, 32, 64], [5, 5, 5], [1, 2, 2], classes, shortcut=shortcut)
    if name == "reduced-resnet18":
        nf = 20
        return ResNet(nf, [nf, 2 * nf, 4 * nf, 8 * nf], [2, 2, 2, 2], [1, 2, 2, 2], classes)
    raise SystemExit(f"unknown model {name!r}; expected conv4, resnet20, resnet32, reduced-resnet18")
