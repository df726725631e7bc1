import GoCompat
import Kube
import KubeModel
import Testing

/// A Job in kubectl's protobuf encoding, built here field by field with generated.proto's
/// numbers: pointer numbers keep their zeros, embedded structs (a probe's handler, a volume's
/// source, a key selector's name) flatten into their parent, quantities and int-or-strings read
/// as JSON has them.
@Suite struct ProtobufWorkloadTests {
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value, out: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            out.append(byte)
        } while value != 0
        return out
    }
    static func message(_ number: Int, _ bytes: [UInt8]) -> [UInt8] { varint(UInt64(number << 3 | 2)) + varint(UInt64(bytes.count)) + bytes }
    static func string(_ number: Int, _ text: String) -> [UInt8] { message(number, Array(text.utf8)) }
    static func int(_ number: Int, _ value: Int) -> [UInt8] { varint(UInt64(number << 3)) + varint(UInt64(bitPattern: Int64(value))) }

    @Test func aJobWithItsPodTemplate() throws {
        let container = Self.string(1, "c") + Self.string(2, "busybox") + Self.string(3, "sh") + Self.string(3, "-c")
            + Self.message(7, Self.string(1, "A") + Self.string(2, "b"))
            + Self.message(7, Self.string(1, "K") + Self.message(3, Self.message(3, Self.message(1, Self.string(1, "cm")) + Self.string(2, "key"))))
            + Self.message(8, Self.message(1, Self.string(1, "cpu") + Self.message(2, Self.string(1, "100m"))))
            + Self.message(11, Self.message(1, Self.message(2, Self.string(1, "/") + Self.message(2, Self.int(1, 0) + Self.int(2, 8080)))) + Self.int(4, 1))
            + Self.int(16, 0)
        let volume = Self.string(1, "data") + Self.message(2, Self.message(19, Self.message(1, Self.string(1, "cm"))))
        let podSpec = Self.message(1, volume) + Self.message(2, container) + Self.string(3, "Never") + Self.int(4, 0)
        let spec = Self.int(1, 2) + Self.int(7, 0) + Self.int(10, 1) + Self.message(6, Self.message(2, podSpec))
        let raw = Self.message(1, Self.string(1, "work")) + Self.message(2, spec)
        let typeMeta = Self.string(1, "batch/v1") + Self.string(2, "Job")
        let body: [UInt8] = [0x6b, 0x38, 0x73, 0x00] + Self.message(1, typeMeta) + Self.message(2, raw)
        let object = try KubeProtobuf.decode(body)
        let expected = try JSONParser.parse(Array(#"""
            {"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"work"},
             "spec":{"parallelism":2,"backoffLimit":0,"suspend":true,"template":{"spec":{
               "volumes":[{"name":"data","configMap":{"name":"cm"}}],
               "containers":[{"name":"c","image":"busybox","command":["sh","-c"],
                 "env":[{"name":"A","value":"b"},{"name":"K","valueFrom":{"configMapKeyRef":{"name":"cm","key":"key"}}}],
                 "resources":{"limits":{"cpu":"100m"}},"readinessProbe":{"httpGet":{"path":"/","port":8080},"periodSeconds":1}}],
               "restartPolicy":"Never","terminationGracePeriodSeconds":0}}}}
            """#.utf8))
        #expect(Self.canonical(object) == Self.canonical(expected), "\(String(decoding: object.serialized, as: UTF8.self))")
    }

    static func canonical(_ value: JSONValue) -> String {
        switch value {
        case .object(let members, _):
            return "{" + members.keys.sorted().map { "\($0):" + canonical(members[$0]!) }.joined(separator: ",") + "}"
        case .array(let items): return "[" + items.map(canonical).joined(separator: ",") + "]"
        default: return String(decoding: value.serialized, as: UTF8.self)
        }
    }
}
