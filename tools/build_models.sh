#!/usr/bin/env bash
# Rebuild the emotion models from ../shared/data: train, export (INT8 small, FP16-weight large),
# evaluate on the test split once, and write the cards and models/REPORT.md.
#
#   tools/build_models.sh                 # train everything, then export
#   tools/build_models.sh --export-only   # reuse runs/ckpt/*/model.pt
#
# The seeds below were chosen on the VALIDATION split with tools/select_models.py among
# crnn seeds 0-1, small seeds 0-2 and large seeds 0-1 (the large model is the best ensemble
# under 5.5 MB). Training is not bit-reproducible (random augmentation), so a rebuild gives
# models of the same kind and similar, not identical, scores.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DATA=${DATA:-../shared/data}
M="--manifest $DATA/ser/manifest.csv --manifest $DATA/asr/ko/emotion.csv"
N="--noise $DATA/noise/cafe_restaurant --noise $DATA/noise/vehicle --noise $DATA/noise/home_appliance"

if [ "${1:-}" != "--export-only" ]; then
  for run in "crnn 1" "small 1" "small 2" "large 0"; do
    set -- $run
    $PY tools/train.py $M --noise "$DATA/noise" --arch "$1" --seed "$2" --epochs "${EPOCHS:-50}" \
      --patience 12 --out "runs/ckpt/$1_s$2"
  done
fi
$PY tools/export.py --checkpoint runs/ckpt/small_s1/model.pt --out models/small.onnx --int8 $M $N \
  --description "small: 2-D CNN + temporal convolutions + statistics pooling, static INT8"
$PY tools/export.py --checkpoint runs/ckpt/small_s2/model.pt --checkpoint runs/ckpt/large_s0/model.pt \
  --fp16 --out models/large.onnx $M $N \
  --description "large: mean of a CNN+BiGRU (attentive pooling) and a CNN+temporal-conv model, float16 weights"
$PY tools/export.py --checkpoint runs/ckpt/crnn_s1/model.pt --out runs/baseline/crnn.onnx $M $N \
  --description "baseline: origin CRNN (Conv2d 1-32-64, 2-layer BiGRU 128, Linear 256-7), same tool and split"
mkdir -p models/baseline && cp runs/baseline/crnn.json models/baseline/crnn.json
$PY tools/model_report.py models/baseline/crnn.json models/small.json models/large.json > models/REPORT.md
