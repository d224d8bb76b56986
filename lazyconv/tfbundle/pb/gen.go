// Package pb holds the protobuf messages of TensorFlow's tensor bundle format
// and `checkpoint` state file, generated from tensor_bundle.proto.
package pb

// The .proto is compiled from the module root so that its registered path
// (lazyconv/tfbundle/pb/tensor_bundle.proto) cannot clash with another file.
//go:generate sh -c "cd ../../.. && protoc -I . --go_out=. --go_opt=paths=source_relative lazyconv/tfbundle/pb/tensor_bundle.proto"
