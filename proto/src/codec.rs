//! The codec of every generated service and client: prost, with buffers
//! that start small. tonic's default starts each stream's encode and decode
//! buffers at 8 KiB; with ten thousand desks holding an idle `Sync` stream
//! those two alone are 160 MiB of the hub, while a buffer that starts at
//! 1 KiB still grows to a full batch when one arrives.

use std::marker::PhantomData;
use tonic::codec::{BufferSettings, Codec};
use tonic_prost::{ProstDecoder, ProstEncoder};

/// A stream's buffers start at this size and grow as messages need.
const START_BYTES: usize = 1024;
/// How much an encoder buffers before it yields (tonic's default is 32
/// KiB). The buffer keeps the largest size it reached for the stream's
/// life, so a smaller yield keeps the hub's pushes from leaving tens of KiB
/// in every desk's connection; a record batch still goes out whole.
const YIELD_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct SmallBufferCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for SmallBufferCodec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> Codec for SmallBufferCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::new(BufferSettings::new(START_BYTES, YIELD_BYTES))
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstDecoder::new(BufferSettings::new(START_BYTES, YIELD_BYTES))
    }
}
