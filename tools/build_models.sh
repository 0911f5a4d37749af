#!/usr/bin/env bash
# Rebuild the emotion models from ../shared/data: train, export (INT8 small, FP16-weight large),
# evaluate on the test split once per model, and write the cards and models/REPORT.md.
#
#   tools/build_models.sh                 # train everything, then export
#   tools/build_models.sh --export-only   # reuse runs/ckpt/*/model.pt
#   tools/build_models.sh --from-shipped  # no checkpoints: re-quantise models/small.onnx from its own
#                                         # weights, take the teacher out of models/large.onnx
#
# Order matters: two models (small_s2, large_s0, split v1) make the teacher that the small model
# is distilled from; the large model is the teacher plus the small model. The small model is
# trained on split v2 with room and band augmentation (the leave-one-corpus-out yardstick's
# candidate, README "The yardstick") and Korean clips weighted 4.5 (v1's share of Korean among
# the drawn clips); it was kept over the model it replaced on the v2 validation speakers. The baseline is the origin design trained by the same tool and split v1, without a
# teacher. Seeds and ensembles were chosen on the VALIDATION split (tools/select_models.py),
# never on test.
# Training is not bit-reproducible (random augmentation), so a rebuild gives models of the same
# kind and similar, not identical, scores. On a 2-core CPU each run takes 30-65 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DATA=${DATA:-../shared/data}
SPLIT=${SPLIT:-splits/ser_split_v2.json}  # the small model's split, its calibration and the cards' test figures
M="--manifest $DATA/ser/manifest.csv --manifest $DATA/asr/ko/emotion.csv"
N="--noise $DATA/noise/cafe_restaurant --noise $DATA/noise/vehicle --noise $DATA/noise/home_appliance"
EXPORT_ONLY=0
[ "${1:-}" = "--export-only" ] && EXPORT_ONLY=1

calibrate() {  # validation only: stream centring's prior, temperature, show_confidence, plots; then the test split once
  # Centring (README "Stream centring", with "The calm guard") changes the logits, so it comes
  # before the temperature.
  $PY tools/centre.py --model models/small.onnx --model models/large.onnx $M --split "$SPLIT" --weight 4 --calm-label neutral
  $PY tools/calibrate.py --model models/small.onnx --model models/large.onnx $M --split "$SPLIT" --plots models
  $PY tools/card_metrics.py --model models/small.onnx ${FLOAT_PARENT:-} $M $N --split "$SPLIT" --yardstick models/yardstick/small.json
  $PY tools/card_metrics.py --model models/large.onnx $M $N --split "$SPLIT" --yardstick models/yardstick/large.json
}

if [ "${1:-}" = "--from-shipped" ]; then
  mkdir -p runs/teacher
  cp models/small.onnx runs/small_shipped.onnx
  $PY tools/requantise.py --model runs/small_shipped.onnx --out models/small.onnx --float-out runs/small_float.onnx $M --split "$SPLIT"
  $PY tools/requantise.py --model models/large.onnx --member 0 --arch "ensemble(small,large)" --out runs/teacher/teacher.onnx
  $PY tools/ensemble.py --member runs/teacher/teacher.onnx --member models/small.onnx --out models/large.onnx $M --split "$SPLIT" --skip-metrics \
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
  train crnn_s1 crnn 1 --split splits/ser_split.json
  train small_s2 small 2 --split splits/ser_split.json
  train large_s0 large 0 --split splits/ser_split.json
fi
# The teacher: mean of small_s2 and large_s0, float16 weights (no test metrics: not shipped alone).
# Without their checkpoints (--export-only), the shipped large model's first member is the teacher.
if [ -f runs/ckpt/small_s2/model.pt ] && [ -f runs/ckpt/large_s0/model.pt ]; then
  $PY tools/export.py --checkpoint runs/ckpt/small_s2/model.pt --checkpoint runs/ckpt/large_s0/model.pt \
    --fp16 --out runs/teacher/teacher.onnx $M --split splits/ser_split.json --skip-metrics \
    --description "teacher: mean of a CNN+BiGRU (attentive pooling) and a CNN+temporal-conv model, float16 weights"
elif [ ! -f runs/teacher/teacher.onnx ]; then
  mkdir -p runs/teacher
  $PY tools/requantise.py --model models/large.onnx --member 0 --arch "ensemble(small,large)" --out runs/teacher/teacher.onnx
fi

((EXPORT_ONLY)) || train small_mel_rbkdk_s4 small_mel 4 --split "$SPLIT" --room-prob 0.4 --band-prob 0.3 --korean-weight 4.5 \
  --teacher runs/teacher/teacher.onnx
$PY tools/export.py --checkpoint runs/ckpt/small_mel_rbkdk_s4/model.pt --out models/small.onnx --int8 $M $N --split "$SPLIT" \
  --description "small: inverse-DCT log-mel front + 2-D CNN + temporal convolutions + statistics pooling, room and band augmentation, distilled from the large model's two members, static INT8"
# large: the teacher's two models and the INT8 small one, probabilities averaged per file.
$PY tools/ensemble.py --member runs/teacher/teacher.onnx --member models/small.onnx --out models/large.onnx $M $N --split "$SPLIT" \
  --description "large: mean of three models: a CNN+BiGRU and a CNN+temporal-conv model (float16 weights, the small model's teacher) and the INT8 small model"

if [ -f runs/ckpt/crnn_s1/model.pt ]; then  # --export-only without it keeps the committed baseline card
  $PY tools/export.py --checkpoint runs/ckpt/crnn_s1/model.pt --out runs/baseline/crnn.onnx $M $N --split splits/ser_split.json \
    --description "baseline: origin CRNN (Conv2d 1-32-64, 2-layer BiGRU 128, Linear 256-7), same tool, split v1"
  mkdir -p models/baseline && cp runs/baseline/crnn.json models/baseline/crnn.json
fi
calibrate
$PY tools/model_report.py models/baseline/crnn.json models/small.json models/large.json > models/REPORT.md
