import Dockerfile

/// The Dockerfile target's own Platform type, made where OCI's (of the same name) is not imported.
func dockerfilePlatform(os: String, architecture: String, variant: String?) -> Platform {
    Platform(os: os, architecture: architecture, variant: variant)
}
