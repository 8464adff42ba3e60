package model

import (
	"github.com/gomlx/gomlx/core/tensors"
)

// Tensors converts the batch to graph inputs in the order InputsFromNodes
// expects. The tensors are copies: the batch can be reused at once.
func (bt *Batch) Tensors() []*tensors.Tensor {
	return append(bt.HistoryTensors(), bt.TargetTensors()...)
}

// HistoryTensors converts only the history part of the batch: the inputs of
// EncodeContext (image, text, label, recency).
func (bt *Batch) HistoryTensors() []*tensors.Tensor {
	return []*tensors.Tensor{
		tensors.FromFlatDataAndDimensions(bt.HistImage, bt.B, bt.H, bt.ImageDim),
		tensors.FromFlatDataAndDimensions(bt.HistText, bt.B, bt.H, bt.TextDim),
		tensors.FromFlatDataAndDimensions(bt.HistLabel, bt.B, bt.H),
		tensors.FromFlatDataAndDimensions(bt.HistRecency, bt.B, bt.H),
	}
}

// TargetTensors converts only the targets: the inputs of ScoreTargets
// besides the encoded context (image, text).
func (bt *Batch) TargetTensors() []*tensors.Tensor {
	return []*tensors.Tensor{
		tensors.FromFlatDataAndDimensions(bt.TgtImage, bt.B, bt.T, bt.ImageDim),
		tensors.FromFlatDataAndDimensions(bt.TgtText, bt.B, bt.T, bt.TextDim),
	}
}
