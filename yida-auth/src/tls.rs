//! The rustls crypto provider behind HTTPS (features `tls-ring`, the default, and `tls-aws-lc`).

/// Makes sure reqwest finds a rustls crypto provider; the client constructors of `yida-auth` and
/// `yida-api` call it before building their HTTP client.
///
/// With the `tls-ring` feature and without `tls-aws-lc`, reqwest is built without a provider of
/// its own: this installs ring as the process's default provider when no default is installed
/// yet (one installed by the application is kept). Otherwise it does nothing. Call it yourself
/// before building a `reqwest::Client` you pass to `http_client(..)`. Never panics.
pub fn ensure_tls_provider() {
    #[cfg(all(feature = "tls-ring", not(feature = "tls-aws-lc")))]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err means another thread installed one first: that one is used, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
