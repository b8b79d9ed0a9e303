//! AWS failures as provider errors: `ResourceNotFoundException` is a
//! not-found, everything else a failure carrying the AWS error code and the
//! secret's name. AWS error messages name secrets, never their values.

use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::secrets_provider::ProviderError;
use crate::value::{SecretBytes, StoredValue};

/// The AWS error code for a resource that does not exist.
pub const NOT_FOUND: &str = "ResourceNotFoundException";
/// The AWS error code for a call the credentials may not make.
pub const ACCESS_DENIED: &str = "AccessDeniedException";

/// A failed call: its AWS error code, if the service answered.
pub fn code_of<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    match e {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

/// A failed call about `subject` (a secret's name, or "listing").
pub fn call_failed<E, R>(operation: &str, subject: &str, e: &SdkError<E, R>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if let SdkError::ServiceError(service) = e {
        let err = service.err();
        let code = err.code().unwrap_or("UnknownError");
        if code == NOT_FOUND {
            return ProviderError::NotFound;
        }
        let reason = format!(
            "AWS {operation} failed for {subject} with {code}: {}",
            err.message().unwrap_or("no message")
        );
        return if DENIED.contains(&code) {
            ProviderError::Denied(reason)
        } else {
            ProviderError::Failed(reason)
        };
    }
    let reason = format!(
        "AWS {operation} failed for {subject}: {}",
        DisplayErrorContext(e)
    );
    match e {
        SdkError::TimeoutError(_) => ProviderError::Unreachable(reason),
        SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => {
            ProviderError::Unreachable(reason)
        }
        SdkError::ConstructionFailure(_) => ProviderError::Misconfigured(reason),
        _ => ProviderError::Failed(reason),
    }
}

/// The AWS error codes of a request the credentials may not make, or of
/// credentials AWS does not accept.
const DENIED: &[&str] = &[
    ACCESS_DENIED,
    "AccessDenied",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "ExpiredToken",
    "IncompleteSignature",
    "MissingAuthenticationToken",
];

/// A per-secret error from a `BatchGetSecretValue` response.
pub fn batch_entry_failed(name: &str, code: Option<&str>, message: Option<&str>) -> ProviderError {
    match code {
        Some(NOT_FOUND) => ProviderError::NotFound,
        code => {
            let reason = format!(
                "AWS BatchGetSecretValue failed for {name} with {}: {}",
                code.unwrap_or("UnknownError"),
                message.unwrap_or("no message")
            );
            if code.is_some_and(|code| DENIED.contains(&code)) {
                ProviderError::Denied(reason)
            } else {
                ProviderError::Failed(reason)
            }
        }
    }
}

/// The value of secret `name` from a response's `SecretString`, or its
/// `SecretBinary` (served as bytes).
pub fn value_of(
    name: &str,
    text: Option<&str>,
    binary: Option<&[u8]>,
) -> Result<StoredValue, ProviderError> {
    match (text, binary) {
        (Some(text), _) => Ok(StoredValue::from(text)),
        (None, Some(bytes)) => Ok(StoredValue::Bytes(SecretBytes::from(bytes))),
        (None, None) => Err(ProviderError::failed(format!(
            "AWS returned no value for {name}"
        ))),
    }
}
