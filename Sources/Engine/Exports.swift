// The supervisor's types (ContainerRunState, log formats) are part of the engine's API.
@_exported import Supervisor
