"""Where the official models and data sets of v1.1 come from, and the layout ``--dataset`` expects.

Pure data (no imports beyond the standard library), read by ``edgeperf datasets`` and
``edgeperf fetch``. URLs are those of the MLCommons inference r1.1 reference (its READMEs,
Makefiles and download scripts; spec benchmarks.md §3-8). Checksums come from MLCommons' own
sources: the reference's ``librispeech-inference.csv`` (MD5 of dev-clean), the MD5s that
MLCommons' automation recipes (mlcommons/cm4mlops ``script/get-*``) verify downloads against, and
for SSD-ResNet34's ONNX file the SHA-256 that spec benchmarks.md §5.c records. For files no
such source covers, ``edgeperf fetch`` records the SHA-256 it computed beside the file
(``<file>.sha256``) and says so; a user who has a checksum passes it with ``--checksum``.
"""

from __future__ import annotations

from ..errors import UsageError

from dataclasses import dataclass, field

__all__ = ["Download", "Item", "DatasetInfo", "MODELS", "DATASETS", "BENCHMARK_DATA", "find_item"]


@dataclass(frozen=True)
class Download:
    """One file to download: its URL, the name to save it as, and its official checksum if any."""

    url: str
    filename: str
    checksum: str | None = None  # "md5:<hex>" or "sha256:<hex>"
    checksum_source: str = ""


@dataclass(frozen=True)
class Item:
    """Something ``edgeperf fetch NAME`` gets: a model or a data set, as one or more files."""

    name: str
    kind: str  # "model" or "dataset"
    description: str
    files: tuple[Download, ...] = ()
    manual: str = ""  # why and how to get it by hand, when it cannot be downloaded


@dataclass(frozen=True)
class DatasetInfo:
    """What ``--dataset`` of a benchmark expects, where it comes from, and how to prepare it."""

    benchmarks: tuple[str, ...]
    name: str
    layout: tuple[str, ...]
    source: str
    prepare: str
    fetch: tuple[str, ...] = field(default=())


_Z = "https://zenodo.org/record"
_CM = "mlcommons/cm4mlops script/{}/_cm.yaml (MLCommons automation)"
#: The uncased BERT vocabulary, from the record the r1.1 Makefile takes it from for the TF checkpoint.
_VOCAB = Download(
    f"{_Z}/3733868/files/vocab.txt",
    "vocab.txt",
    "md5:64800d5d8528ce344256daf115d4965e",
    _CM.format("get-dataset-squad-vocab"),
)

MODELS: dict[str, Item] = {
    i.name: i
    for i in (
        Item(
            "resnet50",
            "model",
            "ResNet50-v1.5, ONNX opset 11 (input_tensor:0 NCHW, outputs ArgMax:0, softmax_tensor:0)",
            (
                Download(
                    f"{_Z}/4735647/files/resnet50_v1.onnx",
                    "resnet50_v1.onnx",
                    "md5:f6a4da60cd5f084d97efc2c1ddb10beb",
                    _CM.format("get-ml-model-resnet50"),
                ),
            ),
        ),
        Item(
            "ssd-mobilenet",
            "model",
            "SSD-MobileNet-v1 on COCO, ONNX opset 11 (image_tensor:0 NHWC uint8)",
            (
                Download(
                    f"{_Z}/4735652/files/ssd_mobilenet_v1_coco_2018_01_28.onnx", "ssd_mobilenet_v1_coco_2018_01_28.onnx"
                ),
            ),
        ),
        Item(
            "ssd-resnet34",
            "model",
            "SSD-ResNet34 1200x1200, ONNX opset 8 from PyTorch (image NCHW; bboxes, labels, scores)",
            (
                Download(
                    f"{_Z}/3228411/files/resnet34-ssd1200.onnx",
                    "resnet34-ssd1200.onnx",
                    "sha256:b417a8186967f1e78670b0075aa72a10e5c7d1a6d5c08af9d13dc97f3d29ef0d",
                    "spec benchmarks.md §5.c (OpenVINO Open Model Zoo model.yml)",
                ),
            ),
        ),
        Item(
            "bert-99",
            "model",
            "BERT-Large fine-tuned on SQuAD v1.1, ONNX fp32 (input_ids, input_mask, segment_ids) "
            "and its uncased vocabulary",
            (
                Download(
                    f"{_Z}/3733910/files/model.onnx",
                    "model.onnx",
                    "md5:819b25b19cd8e59080c10892689750ca",
                    _CM.format("get-ml-model-bert-large-squad"),
                ),
                _VOCAB,
            ),
        ),
        Item(
            "3d-unet-99",
            "model",
            "3D-UNet (nnU-Net, BraTS 2019 fold 1), ONNX opset 11, static batch 1 (input 1x4x224x224x160)",
            (Download(f"{_Z}/3928973/files/224_224_160.onnx", "224_224_160.onnx"),),
        ),
        Item(
            "rnnt",
            "model",
            "RNN-T (LibriSpeech), the reference's PyTorch checkpoint (torch backend)",
            (Download(f"{_Z}/3662521/files/DistributedDataParallel_1576581068.9962234-epoch-100.pt", "rnnt.pt"),),
        ),
    )
}
# The 99.9% variants run the same model files.
MODELS["bert-99.9"] = MODELS["bert-99"]
MODELS["3d-unet-99.9"] = MODELS["3d-unet-99"]

DATASETS: dict[str, Item] = {
    i.name: i
    for i in (
        Item(
            "librispeech",
            "dataset",
            "LibriSpeech dev-clean (FLAC); then `edgeperf dataset prepare librispeech`",
            (
                Download(
                    "http://www.openslr.org/resources/12/dev-clean.tar.gz",
                    "dev-clean.tar.gz",
                    "md5:42e2234ba48799c1f50f24a7926300a1",
                    "mlcommons/inference r1.1 speech_recognition/rnnt/pytorch/utils/librispeech-inference.csv",
                ),
            ),
        ),
        Item(
            "squad",
            "dataset",
            "SQuAD v1.1 dev set and the uncased BERT vocabulary that goes with it",
            (
                Download(
                    "https://raw.githubusercontent.com/rajpurkar/SQuAD-explorer/master/dataset/dev-v1.1.json",
                    "dev-v1.1.json",
                    "md5:3e85deb501d4e538b6bc56f786231552",
                    _CM.format("get-dataset-squad"),
                ),
                _VOCAB,
            ),
        ),
        Item(
            "coco",
            "dataset",
            "COCO 2017 validation images and annotations (zip files; unzip into one folder)",
            (
                Download(
                    "http://images.cocodataset.org/zips/val2017.zip",
                    "val2017.zip",
                    "md5:442b8da7639aecaf257c1dceb8ba8c80",
                    "mlcommons/cm4mlops script/get-dataset-coco/customize.py",
                ),
                Download(
                    "http://images.cocodataset.org/annotations/annotations_trainval2017.zip",
                    "annotations_trainval2017.zip",
                    "md5:f4bbac642086de4f52a3fdda2de5fa2c",
                    "mlcommons/cm4mlops script/get-dataset-coco/customize.py",
                ),
            ),
        ),
        Item(
            "imagenet",
            "dataset",
            "ImageNet 2012 validation set",
            manual=(
                "ImageNet's licence does not allow redistribution: register at https://image-net.org, download "
                "ILSVRC2012_img_val.tar, extract the 50 000 JPEGs into one folder and put val_map.txt beside them "
                "(the Caffe val.txt labels, '<file> <label>' per line)"
            ),
        ),
        Item(
            "brats",
            "dataset",
            "BraTS 2019 training data",
            manual=(
                "BraTS 2019 needs a registration with the challenge organisers (https://www.med.upenn.edu/cbica/brats2019/"
                "registration.html); download MICCAI_BraTS_2019_Data_Training, then run "
                "`edgeperf dataset prepare brats <download> <out> --cases fold1_validation.txt`"
            ),
        ),
    )
}

BENCHMARK_DATA: tuple[DatasetInfo, ...] = (
    DatasetInfo(
        ("resnet50",),
        "ImageNet 2012 validation",
        ("DIR/ILSVRC2012_val_00000001.JPEG ... (50 000 JPEGs)", "DIR/val_map.txt  ('<file> <label 0-999>' per line)"),
        "https://image-net.org (registration; not redistributable)",
        "none: the images are preprocessed at run time (--cache-dir keeps the result)",
        (),
    ),
    DatasetInfo(
        ("ssd-mobilenet",),
        "COCO 2017 validation",
        ("DIR/val2017/000000xxxxxx.jpg (5 000 images)", "DIR/annotations/instances_val2017.json"),
        "http://images.cocodataset.org (val2017.zip, annotations_trainval2017.zip)",
        "none: images are resized to 300x300 at run time",
        ("coco",),
    ),
    DatasetInfo(
        ("ssd-resnet34",),
        "COCO 2017 validation at 1200x1200",
        ("DIR/val2017/*.jpg or *.png", "DIR/annotations/instances_val2017.json"),
        "http://images.cocodataset.org (val2017.zip, annotations_trainval2017.zip)",
        "optional: edgeperf dataset prepare coco DIR OUT --size 1200 (the reference's upscale_coco; "
        "originals also work, resized at run time)",
        ("coco",),
    ),
    DatasetInfo(
        ("bert-99", "bert-99.9"),
        "SQuAD v1.1 dev",
        ("DIR/dev-v1.1.json", "DIR/vocab.txt (uncased BERT vocabulary, 30 522 lines)"),
        "https://github.com/rajpurkar/SQuAD-explorer (dev-v1.1.json); vocab.txt from zenodo 3733868",
        "edgeperf dataset prepare squad DIR (checks the vocabulary and the question count)",
        ("squad",),
    ),
    DatasetInfo(
        ("3d-unet-99", "3d-unet-99.9"),
        "BraTS 2019, fold 1 validation (67 cases)",
        (
            "DIR/preprocessed_data/preprocessed_files.pkl",
            "DIR/preprocessed_data/<case>.pkl",
            "DIR/raw_data/nnUNet_raw_data/Task043_BraTS2019/labelsTr/<case>.nii.gz",
        ),
        "https://www.med.upenn.edu/cbica/brats2019/ (registration)",
        "edgeperf dataset prepare brats RAW DIR --cases fold1_validation.txt",
        (),
    ),
    DatasetInfo(
        ("rnnt",),
        "LibriSpeech dev-clean, utterances <= 15 s (2 513)",
        ("DIR/dev-clean-wav.json (the manifest)", "DIR/dev-clean-wav/<speaker>/<chapter>/<id>.wav"),
        "http://www.openslr.org/resources/12/dev-clean.tar.gz",
        "edgeperf dataset prepare librispeech LibriSpeech/dev-clean DIR (FLAC to WAV, and the manifest)",
        ("librispeech",),
    ),
    DatasetInfo(
        ("demo-digits",),
        "scikit-learn's 8x8 handwritten digits, held-out part (edgeperf's demo)",
        ("shipped inside the package (benchmarks/data/demo-digits/): nothing to pass as --dataset",),
        "edgeperf itself (tools/train_demo_model.py made it from scikit-learn's bundled data)",
        "none: `edgeperf demo` runs it",
        (),
    ),
)


def find_item(name: str) -> Item:
    """The model or data set called ``name``; ValueError listing the known names otherwise."""
    key = name.strip().lower()
    if key in MODELS:
        return MODELS[key]
    if key in DATASETS:
        return DATASETS[key]
    raise UsageError(
        f"unknown model or data set {name!r}; models: {', '.join(sorted(MODELS))}; "
        f"data sets: {', '.join(sorted(DATASETS))}"
    )
