#!/usr/bin/env bash
# Rebuild the emotion models from ../shared/data: train, export (INT8 small, FP16-weight large),
# evaluate on the test split once per model, and write the cards and models/REPORT.md.
#
#   tools/build_models.sh                 # train everything, then export
#   tools/build_models.sh --export-only   # reuse runs/ckpt/*/model.pt
#   tools/build_models.sh --from-shipped  # no checkpoints: re-quantise models/small.onnx from its own
#                                         # weights, take the teacher out of models/large.onnx
#
# Order matters: two models (small_s2, large_s0) make the teacher that the small model is
# distilled from; the large model is the teacher plus the small model. The baseline is the
# origin design trained by the same tool, recipe and split, without a teacher. Seeds and
# ensembles were chosen on the VALIDATION split (tools/select_models.py), never on test.
# Training is not bit-reproducible (random augmentation), so a rebuild gives models of the same
# kind and similar, not identical, scores. On a 2-core CPU each run takes 30-50 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DATA=${DATA:-../shared/data}
M="--manifest $DATA/ser/manifest.csv --manifest $DATA/asr/ko/emotion.csv"
N="--noise $DATA/noise/cafe_restaurant --noise $DATA/noise/vehicle --noise $DATA/noise/home_appliance"
EXPORT_ONLY=0
[ "${1:-}" = "--export-only" ] && EXPORT_ONLY=1

calibrate() {  # validation only: temperature, show_confidence, plots; then the test split once
  $PY tools/calibrate.py --model models/small.onnx --model models/large.onnx $M --plots models
  $PY tools/card_metrics.py --model models/small.onnx ${FLOAT_PARENT:-} $M $N
  $PY tools/card_metrics.py --model models/large.onnx $M $N
}

if [ "${1:-}" = "--from-shipped" ]; then
  mkdir -p runs/teacher
  cp models/small.onnx runs/small_shipped.onnx
  $PY tools/requantise.py --model runs/small_shipped.onnx --out models/small.onnx --float-out runs/small_float.onnx $M
  $PY tools/requantise.py --model models/large.onnx --member 0 --arch "ensemble(small,large)" --out runs/teacher/teacher.onnx
  $PY tools/ensemble.py --member runs/teacher/teacher.onnx --member models/small.onnx --out models/large.onnx $M --skip-metrics \
    --description "large: mean of three models: a CNN+BiGRU and a CNN+temporal-conv model (float16 weights, the small model's teacher) and the INT8 small model"
  FLOAT_PARENT="--float-parent runs/small_float.onnx" calibrate
  exit 0
fi

train() {  # run-name arch seed [more train.py options]
  local name=$1 arch=$2 seed=$3
  shift 3
  $PY tools/train.py $M --noise "$DATA/noise" --arch "$arch" --seed "$seed" --epochs "${EPOCHS:-50}" \
    --patience 12 "$@" --out "runs/ckpt/$name"
}

if ((!EXPORT_ONLY)); then
  train crnn_s1 crnn 1
  train small_s2 small 2
  train large_s0 large 0
fi
# The teacher: mean of small_s2 and large_s0, float16 weights (no test metrics: not shipped alone).
$PY tools/export.py --checkpoint runs/ckpt/small_s2/model.pt --checkpoint runs/ckpt/large_s0/model.pt \
  --fp16 --out runs/teacher/teacher.onnx $M --skip-metrics \
  --description "teacher: mean of a CNN+BiGRU (attentive pooling) and a CNN+temporal-conv model, float16 weights"

((EXPORT_ONLY)) || train small_mel_kd_s4 small_mel 4 --teacher runs/teacher/teacher.onnx
$PY tools/export.py --checkpoint runs/ckpt/small_mel_kd_s4/model.pt --out models/small.onnx --int8 $M $N \
  --description "small: inverse-DCT log-mel front + 2-D CNN + temporal convolutions + statistics pooling, distilled from the large model's two members, static INT8"
# large: the teacher's two models and the INT8 small one, probabilities averaged per file.
$PY tools/ensemble.py --member runs/teacher/teacher.onnx --member models/small.onnx --out models/large.onnx $M $N \
  --description "large: mean of three models: a CNN+BiGRU and a CNN+temporal-conv model (float16 weights, the small model's teacher) and the INT8 small model"

$PY tools/export.py --checkpoint runs/ckpt/crnn_s1/model.pt --out runs/baseline/crnn.onnx $M $N \
  --description "baseline: origin CRNN (Conv2d 1-32-64, 2-layer BiGRU 128, Linear 256-7), same tool and split"
mkdir -p models/baseline && cp runs/baseline/crnn.json models/baseline/crnn.json
calibrate
$PY tools/model_report.py models/baseline/crnn.json models/small.json models/large.json > models/REPORT.md
