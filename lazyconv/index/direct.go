package index

// Bytes returns bytes [off, off+n) of the virtual file without copying them
// when they lie within one literal run or one converted chunk: the slice
// points into the plan or the cached chunk, both immutable, and must not be
// modified. ok is false when the range needs assembling from several
// pieces (or is a source run, which SourceSpan serves).
func (r *Reader) Bytes(off int64, n int) (b []byte, ok bool, err error) {
	if off < 0 || off >= r.plan.Size || n <= 0 {
		return nil, false, nil
	}
	n = int(min(int64(n), r.plan.Size-off))
	run := &r.plan.Runs[r.plan.Find(off)]
	within := off - run.Off
	if within+int64(n) > run.Len {
		return nil, false, nil
	}
	switch run.Kind {
	case Literal:
		return run.Data[within : within+int64(n)], true, nil
	case Converted:
		t := r.plan.Tensors[run.Tensor]
		rowBytes, rowsPerChunk := r.chunking(t)
		chunkBytes := rowBytes * rowsPerChunk
		at := run.TensorOff + within
		c := at / chunkBytes
		if (at+int64(n)-1)/chunkBytes != c {
			return nil, false, nil // spans two chunks
		}
		data, err := r.chunk(t, c)
		if err != nil {
			return nil, false, err
		}
		r.afterRead(off, off+int64(n))
		start := at - c*chunkBytes
		return data[start : start+int64(n)], true, nil
	}
	return nil, false, nil
}
