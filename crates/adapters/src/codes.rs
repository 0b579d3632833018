//! Card numbers and PINs from a cryptographically secure generator.

use morcc_domain::CodeGenerator;
use rand::Rng;

/// Draws digits from rand's thread-local generator, a CSPRNG (ChaCha) seeded and periodically
/// reseeded from the operating system: a PIN is a bearer secret and must not be guessable.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecureCodes;

impl CodeGenerator for SecureCodes {
    fn digits(&self, length: usize) -> String {
        let mut rng = rand::rng();
        (0..length)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_decimal_digits_of_the_requested_length() {
        for length in [0, 1, 6, 10, 255] {
            let code = SecureCodes.digits(length);
            assert_eq!(code.len(), length);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn every_digit_turns_up() {
        let code = SecureCodes.digits(1000);
        for digit in '0'..='9' {
            assert!(code.contains(digit), "{digit} never drawn");
        }
    }
}
