import ContainerSpec
import HTTPServer
import NIOHTTP1
import TextTemplate

extension ResponseWriter {
    /// A DockerModel value as Docker's JSON: members in the model's order, a newline after (as Go's
    /// json.Encoder ends each value).
    func json(_ value: some Encodable, status: HTTPResponseStatus = .ok) throws {
        let text: String
        do { text = try TemplateValueEncoder().encode(value).json() } catch {
            throw EngineError.system("encode the response", error)
        }
        send(status: status, headers: [("Content-Type", "application/json")], body: Array(text.utf8) + [10])
    }

    /// JSON text made by hand (or by a model's own encoder).
    func jsonText(_ text: String, status: HTTPResponseStatus = .ok) {
        send(status: status, headers: [("Content-Type", "application/json")], body: Array(text.utf8) + [10])
    }

    /// Docker's error body, `{"message":"…"}`, with the status its kind maps to.
    func error(_ error: any Error, status: HTTPResponseStatus? = nil) {
        let engineError = (error as? EngineError) ?? EngineError.system("\(error)")
        let code = status ?? HTTPResponseStatus(statusCode: engineError.httpStatus)
        send(status: code, headers: [("Content-Type", "application/json")],
             body: Array(("{\"message\":" + TemplateValue.string(engineError.message).json() + "}").utf8) + [10])
    }
}
