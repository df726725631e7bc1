import Builder
import ContainerSpec
import DockerModel
import ImageStore
import Registry

extension DockerAPI {
    /// Any service's failure as the engine's one error shape, by its kind (never by its text):
    /// the status dockerd answers with, and the message.
    static func apiError(_ error: any Error) -> EngineError {
        switch error {
        case let error as EngineError:
            return error
        case let error as ImageStoreError:
            switch error.kind {
            case .notFound: return .notFound(error.message)
            case .conflict: return .conflict(error.message)
            case .invalid: return .invalid(error.message)
            case .failed: return .system(error.message)
            }
        case let error as RegistryError:
            switch error.kind {
            case .notFound: return .notFound(error.description)
            case .unauthorized: return EngineError(.forbidden, error.description)
            case .denied: return .forbidden(error.description)
            case .local: return .invalid(error.description)
            default: return .system(error.description)
            }
        case let error as FilterError:
            return .invalid(error.message)
        case let error as BuildError:
            return .system(error.message)
        default:
            return .system("\(error)")
        }
    }
}
