extension DockerAPI {
    static var extraRoutes: [Route] { [] }
}
