// Package spm reads a SentencePiece model file (the ModelProto that
// spm_train writes): the pieces with their scores and types, and the
// trainer and normalizer settings a Hugging Face tokenizer.json is built
// from. Only those fields are decoded; the rest are skipped.
package spm

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// PieceType is SentencePiece.Type in sentencepiece_model.proto.
type PieceType int32

// Piece types.
const (
	Normal      PieceType = 1
	Unknown     PieceType = 2
	Control     PieceType = 3
	UserDefined PieceType = 4
	Unused      PieceType = 5
	Byte        PieceType = 6
)

// ModelType is TrainerSpec.ModelType.
type ModelType int32

// Model types.
const (
	Unigram ModelType = 1
	BPE     ModelType = 2
	Word    ModelType = 3
	Char    ModelType = 4
)

// Piece is one vocabulary entry; its id is its index in Model.Pieces.
type Piece struct {
	Text  string
	Score float32
	Type  PieceType
}

// Model holds the decoded fields. Fields a file leaves out keep the
// proto's declared defaults.
type Model struct {
	Pieces []Piece

	// TrainerSpec
	Type                    ModelType
	SplitByWhitespace       bool
	TreatWhitespaceAsSuffix bool
	ByteFallback            bool

	// NormalizerSpec
	NormalizerName         string
	PrecompiledCharsmap    []byte
	AddDummyPrefix         bool
	RemoveExtraWhitespaces bool
	EscapeWhitespaces      bool
}

// Field numbers of sentencepiece_model.proto.
const (
	modelPieces, modelTrainerSpec, modelNormalizerSpec = 1, 2, 3

	pieceText, pieceScore, pieceType = 1, 2, 3

	trainerModelType, trainerSplitByWhitespace = 3, 22
	trainerTreatWhitespaceAsSuffix             = 24
	trainerByteFallback                        = 35

	normName, normCharsmap, normAddDummyPrefix = 1, 2, 3
	normRemoveExtraWhitespaces                 = 4
	normEscapeWhitespaces                      = 5
)

// Parse decodes a SentencePiece model. name labels errors (the file).
func Parse(name string, data []byte) (*Model, error) {
	m := &Model{
		Type: Unigram, SplitByWhitespace: true,
		AddDummyPrefix: true, RemoveExtraWhitespaces: true, EscapeWhitespaces: true,
	}
	err := fields(data, func(num protowire.Number, typ protowire.Type, v value) error {
		switch {
		case num == modelPieces && typ == protowire.BytesType:
			p, err := parsePiece(v.bytes)
			if err != nil {
				return fmt.Errorf("piece %d: %w", len(m.Pieces), err)
			}
			m.Pieces = append(m.Pieces, p)
		case num == modelTrainerSpec && typ == protowire.BytesType:
			return fields(v.bytes, func(num protowire.Number, typ protowire.Type, v value) error {
				switch {
				case num == trainerModelType && typ == protowire.VarintType:
					m.Type = ModelType(int32(v.varint))
				case num == trainerSplitByWhitespace && typ == protowire.VarintType:
					m.SplitByWhitespace = v.varint != 0
				case num == trainerTreatWhitespaceAsSuffix && typ == protowire.VarintType:
					m.TreatWhitespaceAsSuffix = v.varint != 0
				case num == trainerByteFallback && typ == protowire.VarintType:
					m.ByteFallback = v.varint != 0
				}
				return nil
			})
		case num == modelNormalizerSpec && typ == protowire.BytesType:
			return fields(v.bytes, func(num protowire.Number, typ protowire.Type, v value) error {
				switch {
				case num == normName && typ == protowire.BytesType:
					m.NormalizerName = string(v.bytes)
				case num == normCharsmap && typ == protowire.BytesType:
					m.PrecompiledCharsmap = append([]byte(nil), v.bytes...)
				case num == normAddDummyPrefix && typ == protowire.VarintType:
					m.AddDummyPrefix = v.varint != 0
				case num == normRemoveExtraWhitespaces && typ == protowire.VarintType:
					m.RemoveExtraWhitespaces = v.varint != 0
				case num == normEscapeWhitespaces && typ == protowire.VarintType:
					m.EscapeWhitespaces = v.varint != 0
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: not a SentencePiece model: %w", name, err)
	}
	if len(m.Pieces) == 0 {
		return nil, fmt.Errorf("%s: not a SentencePiece model: no pieces", name)
	}
	return m, nil
}

func parsePiece(data []byte) (Piece, error) {
	p := Piece{Type: Normal}
	err := fields(data, func(num protowire.Number, typ protowire.Type, v value) error {
		switch {
		case num == pieceText && typ == protowire.BytesType:
			p.Text = string(v.bytes)
		case num == pieceScore && typ == protowire.Fixed32Type:
			p.Score = math.Float32frombits(v.fixed32)
		case num == pieceType && typ == protowire.VarintType:
			p.Type = PieceType(int32(v.varint))
		}
		return nil
	})
	return p, err
}

// value is one decoded field; which member is set follows its wire type.
type value struct {
	varint  uint64
	fixed32 uint32
	bytes   []byte
}

// fields walks a message's fields in order and calls fn for each varint,
// fixed32 and length-delimited one (others are skipped).
func fields(data []byte, fn func(protowire.Number, protowire.Type, value) error) error {
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return protowire.ParseError(n)
		}
		data = data[n:]
		var v value
		switch typ {
		case protowire.VarintType:
			v.varint, n = protowire.ConsumeVarint(data)
		case protowire.Fixed32Type:
			v.fixed32, n = protowire.ConsumeFixed32(data)
		case protowire.BytesType:
			v.bytes, n = protowire.ConsumeBytes(data)
		default:
			n = protowire.ConsumeFieldValue(num, typ, data)
		}
		if n < 0 {
			return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		data = data[n:]
		if err := fn(num, typ, v); err != nil {
			return err
		}
	}
	return nil
}
