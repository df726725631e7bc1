import CLinuxSys
import Glibc

extension ProcessSys {
    /// The GNU build ID the linker put in this executable (`NT_GNU_BUILD_ID`, hex), read from the
    /// program's own loaded notes: what names this very build, as a commit hash names a source tree.
    /// Nil when the executable was linked without one.
    public static let buildID: String? = {
        var found: [UInt8]?
        withUnsafeMutablePointer(to: &found) { out in
            berth_program_notes({ notes, size, context in
                guard let notes, let context else { return 0 }
                guard let id = ProcessSys.gnuBuildID(notes: UnsafeRawBufferPointer(start: notes, count: size)) else { return 0 }
                context.assumingMemoryBound(to: [UInt8]?.self).pointee = id
                return 1
            }, out)
        }
        return found.map { bytes in bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
    }()

    /// The descriptor of the `GNU` note of type NT_GNU_BUILD_ID (3) in an ELF note segment.
    static func gnuBuildID(notes: UnsafeRawBufferPointer) -> [UInt8]? {
        func aligned(_ n: Int) -> Int { (n + 3) & ~3 }
        var offset = 0
        while offset + 12 <= notes.count {
            let nameSize = Int(notes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let descSize = Int(notes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
            let type = notes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            let name = offset + 12
            let desc = name + aligned(nameSize)
            guard desc + descSize <= notes.count else { return nil }
            if type == 3, nameSize == 4, Array(notes[name..<name + 4]) == [0x47, 0x4e, 0x55, 0] {
                return Array(notes[desc..<desc + descSize])
            }
            offset = desc + aligned(descSize)
        }
        return nil
    }
}
