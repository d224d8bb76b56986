"""Writes the small TensorFlow checkpoints next to this script.

Run with any Python that has TensorFlow 2: `python gen.py`. The checkpoints
are written in a temporary directory and copied here, so the absolute paths
TF1's saver records in `tf1/checkpoint` point nowhere (as in checkpoints
downloaded from their publisher).
"""
import os
import shutil
import tempfile

import numpy as np

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
tmp = tempfile.mkdtemp()


class Model(tf.Module):
    """One variable of each dtype a bundle can hold, plus an empty one."""

    def __init__(self):
        self.f32 = tf.Variable(np.arange(12, dtype=np.float32).reshape(3, 4))
        self.f64 = tf.Variable(np.array([[0.5, 1.5], [2.5, 3.5]]))
        self.f16 = tf.Variable(np.arange(5, dtype=np.float16))
        self.bf16 = tf.Variable(tf.constant([1.5, 2.5], dtype=tf.bfloat16))
        self.i8 = tf.Variable(np.array([-1, 2], dtype=np.int8))
        self.u8 = tf.Variable(np.array([1, 2, 3], dtype=np.uint8))
        self.b = tf.Variable(np.array([True, False]))
        self.i64 = tf.Variable(np.int64(1000))
        self.c64 = tf.Variable(np.array([1 + 2j], dtype=np.complex64))
        self.s = tf.Variable(["hello", "world"])
        self.empty = tf.Variable(np.zeros((0, 3), dtype=np.float32))


m = Model()
# TF2 object-based checkpoint, one shard and several.
tf.train.Checkpoint(model=m).write(os.path.join(tmp, "tf2", "ckpt"))
sharding = tf.train.experimental.MaxShardSizePolicy(max_shard_size=64)
tf.train.Checkpoint(model=m).write(
    os.path.join(tmp, "sharded", "ckpt"),
    options=tf.train.CheckpointOptions(experimental_sharding_callback=sharding))

# TF1 saver: BERT-like names, a partitioned variable, two steps; and the
# same variables in the V1 format.
v1 = tf.compat.v1
with tf.Graph().as_default():
    with v1.variable_scope("bert/encoder/layer_0"):
        v1.get_variable("kernel", initializer=np.arange(32, dtype=np.float32).reshape(8, 4))
        v1.get_variable("bias", initializer=np.zeros(4, np.float32))
    v1.get_variable("part", shape=[10, 3], partitioner=v1.fixed_size_partitioner(2),
                    initializer=v1.ones_initializer())
    v1.train.get_or_create_global_step()
    os.makedirs(os.path.join(tmp, "v1"))
    with v1.Session() as sess:
        sess.run(v1.global_variables_initializer())
        saver = v1.train.Saver()
        for step in (1, 2):
            saver.save(sess, os.path.join(tmp, "tf1", "model.ckpt"), global_step=step,
                       write_meta_graph=False)
        v1.train.Saver(write_version=v1.train.SaverDef.V1).save(
            sess, os.path.join(tmp, "v1", "model.ckpt"), write_meta_graph=False)

for sub in ("tf2", "sharded", "tf1", "v1"):
    shutil.rmtree(os.path.join(here, sub), ignore_errors=True)
    shutil.copytree(os.path.join(tmp, sub), os.path.join(here, sub))
shutil.rmtree(tmp)
