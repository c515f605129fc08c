//! Checksums appended to outgoing frames, as the bytes that go on the wire.

use crc::{CRC_16_IBM_3740, CRC_16_MODBUS, CRC_32_ISO_HDLC, Crc};

/// A checksum over the payload. Doc comments double as `--help` text for the possible values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Checksum {
    /// Sum of the bytes mod 256, one byte
    Sum8,
    /// XOR of the bytes, one byte
    Xor8,
    /// CRC-16/MODBUS, low byte first
    Crc16Modbus,
    /// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), high byte first
    Crc16Ccitt,
    /// CRC-32 as zlib (ISO-HDLC), little-endian
    Crc32,
    /// Modbus ASCII LRC (two's complement of the byte sum), one byte
    Lrc,
}

static CRC16_MODBUS: Crc<u16> = Crc::<u16>::new(&CRC_16_MODBUS);
/// CCITT-FALSE is the catalogue's CRC-16/IBM-3740.
static CRC16_CCITT: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_3740);
static CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

static ALL: [Checksum; 6] = [
    Checksum::Sum8,
    Checksum::Xor8,
    Checksum::Crc16Modbus,
    Checksum::Crc16Ccitt,
    Checksum::Crc32,
    Checksum::Lrc,
];

impl Checksum {
    /// The checksum of `data` in the byte order each protocol puts on the wire.
    pub fn compute(self, data: &[u8]) -> Vec<u8> {
        let sum = || data.iter().fold(0u8, |acc, &b| acc.wrapping_add(b));
        match self {
            Self::Sum8 => vec![sum()],
            Self::Xor8 => vec![data.iter().fold(0, |acc, &b| acc ^ b)],
            Self::Crc16Modbus => CRC16_MODBUS.checksum(data).to_le_bytes().to_vec(),
            Self::Crc16Ccitt => CRC16_CCITT.checksum(data).to_be_bytes().to_vec(),
            Self::Crc32 => CRC32.checksum(data).to_le_bytes().to_vec(),
            Self::Lrc => vec![sum().wrapping_neg()],
        }
    }

    /// Appends the checksum of `bytes` to them: what a send, a rule's reply and a script's send end with.
    pub fn append_to(self, bytes: &mut Vec<u8>) {
        let sum = self.compute(bytes);
        bytes.extend_from_slice(&sum);
    }

    /// The name used on the command line and in settings.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sum8 => "sum8",
            Self::Xor8 => "xor8",
            Self::Crc16Modbus => "crc16-modbus",
            Self::Crc16Ccitt => "crc16-ccitt",
            Self::Crc32 => "crc32",
            Self::Lrc => "lrc",
        }
    }

    /// Every checksum, in display order.
    pub fn all() -> &'static [Checksum] {
        &ALL
    }

    /// How the checksum is laid out on the wire, for tooltips and help text.
    pub fn wire_order(self) -> &'static str {
        match self {
            Self::Sum8 | Self::Xor8 | Self::Lrc => "one byte",
            Self::Crc16Modbus => "low byte first",
            Self::Crc16Ccitt => "high byte first",
            Self::Crc32 => "little-endian (low byte first)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as DeError, StrDeserializer};

    #[test]
    fn known_vectors() {
        const CHECK: &[u8] = b"123456789";
        const MODBUS_READ: &[u8] = &[0x01, 0x03, 0x00, 0x00, 0x00, 0x0A];
        let cases: &[(Checksum, &[u8], &[u8])] = &[
            (Checksum::Sum8, CHECK, &[0xDD]),
            (Checksum::Sum8, &[0xFF, 0x02], &[0x01]),
            (Checksum::Sum8, &[], &[0x00]),
            (Checksum::Xor8, CHECK, &[0x31]),
            (Checksum::Xor8, &[0x5A, 0xA5], &[0xFF]),
            (Checksum::Xor8, &[], &[0x00]),
            (Checksum::Lrc, CHECK, &[0x23]),
            (Checksum::Lrc, MODBUS_READ, &[0xF2]),
            (Checksum::Lrc, &[], &[0x00]),
            (Checksum::Crc16Modbus, CHECK, &[0x37, 0x4B]),
            (Checksum::Crc16Modbus, MODBUS_READ, &[0xC5, 0xCD]),
            (Checksum::Crc16Modbus, &[], &[0xFF, 0xFF]),
            (Checksum::Crc16Ccitt, CHECK, &[0x29, 0xB1]),
            (Checksum::Crc16Ccitt, &[], &[0xFF, 0xFF]),
            (Checksum::Crc32, CHECK, &[0x26, 0x39, 0xF4, 0xCB]),
            (Checksum::Crc32, &[], &[0x00, 0x00, 0x00, 0x00]),
        ];
        for &(checksum, data, wire) in cases {
            assert_eq!(checksum.compute(data), wire, "{checksum:?} over {data:02X?}");
        }
    }

    #[test]
    fn names_agree_across_cli_and_settings() {
        let names: Vec<_> = Checksum::all().iter().map(|c| c.name()).collect();
        assert_eq!(names, ["sum8", "xor8", "crc16-modbus", "crc16-ccitt", "crc32", "lrc"]);
        assert_eq!(Checksum::all().len(), Checksum::value_variants().len());
        for &checksum in Checksum::all() {
            assert_eq!(Checksum::from_str(checksum.name(), false), Ok(checksum));
            let de: StrDeserializer<DeError> = checksum.name().into_deserializer();
            assert_eq!(Checksum::deserialize(de), Ok(checksum));
        }
    }

    /// The check values (CRC of "123456789") straight from the `crc` crate's catalogue, in the wire order the
    /// tooltip names; the one-byte sums say so.
    #[test]
    fn crcs_match_the_catalogue_check_values_in_the_order_shown() {
        use crc::{CRC_16_IBM_3740, CRC_16_MODBUS, CRC_32_ISO_HDLC};
        let cases = [
            (Checksum::Crc16Modbus, &CRC_16_MODBUS.check.to_le_bytes()[..]),
            (Checksum::Crc16Ccitt, &CRC_16_IBM_3740.check.to_le_bytes()[..]),
            (Checksum::Crc32, &CRC_32_ISO_HDLC.check.to_le_bytes()[..]),
        ];
        for (checksum, low_first) in cases {
            let mut check = low_first.to_vec();
            match checksum.wire_order() {
                order if order.contains("low byte first") => {}
                "high byte first" => check.reverse(),
                order => panic!("{checksum:?}: {order:?} names no byte order"),
            }
            assert_eq!(checksum.compute(b"123456789"), check, "{checksum:?}");
        }
        for checksum in [Checksum::Sum8, Checksum::Xor8, Checksum::Lrc] {
            assert_eq!(
                (checksum.wire_order(), checksum.compute(b"123456789").len()),
                ("one byte", 1)
            );
        }
    }

    proptest! {
        /// A message followed by its checksum, in its wire order, always checks to the same value: what a
        /// receiver verifies. A wrong byte order or a sum over the wrong bytes breaks it for most messages.
        #[test]
        fn a_message_with_its_checksum_has_a_constant_residue(data in proptest::collection::vec(any::<u8>(), 0..100)) {
            // Sum8 has no residue; LRC is its two's complement.
            let sum = Checksum::Sum8.compute(&data)[0];
            prop_assert_eq!(sum.wrapping_add(Checksum::Lrc.compute(&data)[0]), 0);
            for &checksum in Checksum::all().iter().filter(|&&c| c != Checksum::Sum8) {
                let framed = [data.clone(), checksum.compute(&data)].concat();
                let empty = checksum.compute(&[]);
                prop_assert_eq!(
                    checksum.compute(&framed),
                    checksum.compute(&empty),
                    "{:?}", checksum
                );
            }
        }
    }
}
